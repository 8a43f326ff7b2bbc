import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator.close();
});

/** Writes `chunks` to the port (pausing between them) and returns what came back until the server closed or 1 s passed. */
function raw(chunks: string[], gapMs = 20): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(emulator.port, '127.0.0.1');
    let out = '';
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    const done = (): void => {
      socket.destroy();
      resolve(out);
    };
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(done, 1000);
    void (async () => {
      for (const c of chunks) {
        socket.write(c);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe('one port for gRPC and REST', () => {
  it('routes HTTP/1.1 to REST even when the first bytes arrive one at a time', async () => {
    const request = get('/healthz');
    const res = await raw([request.slice(0, 1), request.slice(1, 2), request.slice(2)]);
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).toContain('"status":"ok"');
  });

  it('serves the OIDC discovery documents on the REST side', async () => {
    const config = (await (await fetch(`${emulator.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ issuer: emulator.issuer, jwks_uri: emulator.jwksUrl, id_token_signing_alg_values_supported: ['RS256'] });
    const jwks = (await (await fetch(emulator.jwksUrl)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });

  it('survives garbage, a truncated HTTP/2 preface and a bad HTTP/2 stream, and keeps serving', async () => {
    await raw(['\x00\x01\x02garbage\r\n\r\n']);
    await raw(['PRI * HTTP/2.0\r\n']);
    await raw(['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'not a frame at all']);
    const res = await fetch(`${emulator.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('answers unknown REST paths with the Google error JSON', async () => {
    const res = await fetch(`${emulator.url}/v2/projects/p/locations/l/somewhere`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });

  it('reports stats, dropped tasks and the Pub/Sub counters over REST', async () => {
    const res = await fetch(`${emulator.url}/emulator/stats`);
    expect(await res.json()).toEqual({ stats: emulator.stats(), queues: emulator.queueStats(), droppedTasks: [], pubsub: emulator.pubsubStats() });
  });
});
