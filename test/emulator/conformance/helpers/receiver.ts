// A local HTTP target for the emulator to push to: it records every request (method, path, headers,
// body, arrival time) and answers from a per-path script, so one receiver serves a whole test file
// while each test owns its own path.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it. */
export interface Received {
  readonly method: string;
  /** Path including the query string, as sent on the request line. */
  readonly path: string;
  /** Lower-cased header names, as Node parses them. */
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** `performance.now()` when the request head arrived — for gaps between attempts. */
  readonly at: number;
  /** Wall clock (epoch ms) when the request head arrived — for comparing with task timestamps. */
  readonly wallAt: number;
}

/** What the receiver does with one request. */
export type Reply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  /** Never answer; the socket is released when the client gives up or the receiver closes. */
  | { readonly hang: true }
  /** Answer 200 after `ms` (for concurrency measurements). */
  | { readonly delayMs: number; readonly status?: number }
  /** Drop the connection without any response. */
  | { readonly destroy: true };

/** Decides the reply to the n-th (0-based) request on a path. */
export type Script = (index: number, request: Received) => Reply;

/** A running receiver. */
export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: Received[];
  /** Script the replies for requests to `path` (exact match, query string excluded). Default: 200. */
  on(path: string, script: Script): void;
  /** Requests received on `path` (query string excluded). */
  at(path: string): Received[];
  /** Resolves with the requests on `path` once there are at least `count` of them. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Received[]>;
  /** Requests currently being answered, on one path or on all. */
  inFlight(path?: string): number;
  /** The most requests ever in flight at once, on one path or on all (for concurrency caps). */
  peakInFlight(path?: string): number;
  close(): Promise<void>;
}

/** Replies 200 to everything. */
export const ok: Script = () => ({ status: 200 });

/** Replies with the given statuses in order, then 200. */
export function statuses(...codes: number[]): Script {
  return (index) => ({ status: codes[index] ?? 200 });
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** Starts a receiver on 127.0.0.1 with a random port. */
export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const scripts = new Map<string, Script>();
  const waiters = new Set<() => void>();
  const hanging = new Set<http.ServerResponse>();
  let inFlight = 0;
  let peak = 0;
  const pathInFlight = new Map<string, number>();
  const pathPeak = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const at = performance.now();
    const wallAt = Date.now();
    const key = pathOnly(req.url ?? '');
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    const current = (pathInFlight.get(key) ?? 0) + 1;
    pathInFlight.set(key, current);
    pathPeak.set(key, Math.max(pathPeak.get(key) ?? 0, current));
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        inFlight -= 1;
        pathInFlight.set(key, (pathInFlight.get(key) ?? 1) - 1);
      }
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at,
        wallAt,
      };
      const index = requests.filter((r) => pathOnly(r.path) === key).length;
      requests.push(received);
      for (const wake of [...waiters]) wake();
      const reply = (scripts.get(key) ?? ok)(index, received);
      if ('hang' in reply) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if ('destroy' in reply) {
        req.socket.destroy();
        return;
      }
      if ('delayMs' in reply) {
        setTimeout(() => {
          res.writeHead(reply.status ?? 200).end('ok');
        }, reply.delayMs);
        return;
      }
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  // Keep-alive sockets from the emulator must not hold close() open.
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const at = (path: string): Received[] => requests.filter((r) => pathOnly(r.path) === path);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(path, script) {
      scripts.set(path, script);
    },
    at,
    waitFor(path, count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const got = at(path);
          if (got.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: expected ${count} requests on ${path} within ${timeoutMs} ms, got ${at(path).length}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    inFlight: (path) => (path === undefined ? inFlight : (pathInFlight.get(path) ?? 0)),
    peakInFlight: (path) => (path === undefined ? peak : (pathPeak.get(path) ?? 0)),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header's single value (Node joins repeated headers; Cloud Tasks sends each once). */
export function header(request: Received, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Gaps in ms between consecutive arrivals. */
export function gaps(received: readonly Received[]): number[] {
  return received.slice(1).map((r, i) => r.at - received[i]!.at);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
