import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { listenDual, type DualServer } from '../../src/emulator/server.js';

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

describe('connections that never show their protocol', () => {
  let dual: DualServer;
  let grpcServer: grpc.Server;
  // A short sniff timeout; the checks below wait for the server to act, they time nothing.
  const SNIFF_MS = 200;
  beforeAll(async () => {
    grpcServer = new grpc.Server();
    dual = await listenDual({
      host: '127.0.0.1',
      port: 0,
      grpcServer,
      sniffTimeoutMs: SNIFF_MS,
      rest: (req, res) => {
        void (async () => {
          let body = '';
          for await (const chunk of req as AsyncIterable<Buffer>) body += chunk.toString();
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`got ${body}`);
        })();
      },
    });
  });
  afterAll(async () => {
    await dual.close();
  });

  /** Connects, writes `first` (if any), and resolves once the server has closed the connection. */
  const closedByServer = (first?: string): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect(dual.port, '127.0.0.1', () => {
        if (first !== undefined) socket.write(first);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });

  it('closes a connection that sends only the start of the HTTP/2 preface', async () => {
    await closedByServer('PRI * HT');
  });

  it('closes a connection that sends nothing', async () => {
    await closedByServer();
  });

  it('leaves a slow but real HTTP/1.1 client alone once its request line has arrived', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(dual.port, '127.0.0.1', () => {
        socket.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n');
        // The body comes well after the sniff timeout has passed.
        setTimeout(() => socket.write('slow'), SNIFF_MS * 3);
      });
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
      socket.on('close', () => resolve(out));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('got slow');
  });
});
