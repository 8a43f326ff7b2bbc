/** Shared pieces of the Pub/Sub conformance tests: an emulator, the official client pointed at it, a push receiver. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

/** Project used by the Pub/Sub tests. */
export const PROJECT = 'test-project';

/** Starts an emulator and points PUBSUB_EMULATOR_HOST at it, as a user's shell would. */
export async function startPubSubEmulator(): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0 });
  process.env.PUBSUB_EMULATOR_HOST = emulator.address;
  process.env.METADATA_SERVER_DETECTION = 'none';
  return emulator;
}

/** Resolves once `check` is true (checked every 10 ms); rejects with `what` after timeoutMs. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A request the push receiver got. */
export interface PushedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** A loopback HTTP server recording push requests and answering with `answer(path, n)` (n: 0-based count for the path). */
export async function startReceiver(answer: (path: string, n: number) => number): Promise<{ url: string; requests: PushedRequest[]; close(): Promise<void> }> {
  const requests: PushedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = requests.filter((r) => r.path === path).length;
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      res.writeHead(answer(path, n)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
