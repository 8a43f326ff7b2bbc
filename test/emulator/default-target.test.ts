/** Tasks that name no URL (firebase-admin's): the emulator's --default-target and a queue's defaultTarget. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { parseEmulatorArgs } from '../../src/emulator/cli.js';
import { loadQueuesFile } from '../../src/emulator/queues-file.js';
import { ConfigError } from '../../src/errors.js';

/** A receiver that records the path of every push. */
function receiver(): Promise<{ server: Server; url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths })));
}

let sink: Awaited<ReturnType<typeof receiver>>;
let withDefault: Emulator;
let without: Emulator;
const parent = 'projects/local-project/locations/us-central1';

async function create(e: Emulator, queue: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${e.url}/v2/${parent}/queues/${queue}/tasks`, {
    method: 'POST',
    body: JSON.stringify({ task: { httpRequest: { url: '', body: Buffer.from('{"data":1}').toString('base64') } } }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sink = await receiver();
  const queues = { queues: [{ name: 'own', defaultTarget: `${sink.url}/own` }, { name: 'shared' }] };
  withDefault = await startEmulator({ port: 0, queues, defaultTarget: `${sink.url}/shared` });
  without = await startEmulator({ port: 0, queues: { queues: [{ name: 'shared' }] } });
});

afterAll(async () => {
  await withDefault?.close();
  await without?.close();
  sink?.server.close();
});

describe('default targets', () => {
  it("sends a task with an empty url to its queue's defaultTarget, else to --default-target, and stores that url", async () => {
    const own = await create(withDefault, 'own');
    const shared = await create(withDefault, 'shared');
    expect(own.status).toBe(200);
    expect((own.json.httpRequest as { url: string }).url).toBe(`${sink.url}/own`);
    expect((shared.json.httpRequest as { url: string }).url).toBe(`${sink.url}/shared`);
    await withDefault.waitForIdle();
    expect(sink.paths.sort()).toEqual(['/own', '/shared']);
  });

  it('refuses a task with an empty url when neither exists, naming both ways to give one', async () => {
    const r = await create(without, 'shared');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/url is required.*--default-target URL.*defaultTarget in the queues file/);
  });

  it('takes --default-target on the command line and refuses one that is not an http(s) URL', () => {
    expect(parseEmulatorArgs(['--default-target', 'http://localhost:5001/fn']).defaultTarget).toBe('http://localhost:5001/fn');
    expect(() => parseEmulatorArgs(['--default-target', 'localhost:5001'])).toThrow(/--default-target must be an absolute http\(s\) URL/);
  });

  it("validates a queues file's defaultTarget", () => {
    let err: unknown;
    try {
      loadQueuesFile({ queues: [{ name: 'q', defaultTarget: 'ftp://x' }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join('\n')).toMatch(/defaultTarget: must be an absolute http\(s\) URL/);
  });
});
