import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pusher } from '../../src/emulator/dispatch.js';

let server: http.Server;
let base: string;
const seen: Array<{ method?: string | undefined; url?: string | undefined; headers: http.IncomingHttpHeaders; body: string }> = [];
const pusher = new Pusher();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1000);
      if (req.url === '/busy') return void res.writeHead(503, { 'Retry-After': '7' }).end('busy');
      if (req.url === '/big') return void res.end('x'.repeat(2 * 1024 * 1024));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await pusher.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('Pusher', () => {
  it('sends method, path with query, headers and body, and returns the status', async () => {
    const r = await pusher.push({ url: `${base}/ok?x=1`, method: 'PUT', headers: { 'x-a': 'b', 'content-type': 'text/plain' }, body: Buffer.from('hi'), timeoutMs: 5000 });
    expect(r).toEqual({ kind: 'response', status: 204 });
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/ok?x=1', body: 'hi', headers: { 'x-a': 'b', 'content-type': 'text/plain' } });
  });

  it('reports Retry-After of a 503 answer', async () => {
    expect(await pusher.push({ url: `${base}/busy`, method: 'POST', headers: {}, timeoutMs: 5000 })).toEqual({ kind: 'response', status: 503, retryAfter: '7' });
  });

  it('discards large answer bodies and still reports the status', async () => {
    expect(await pusher.push({ url: `${base}/big`, method: 'GET', headers: {}, timeoutMs: 5000 })).toEqual({ kind: 'response', status: 200 });
  });

  it('reports a timeout when no response arrives within the deadline', async () => {
    const r = await pusher.push({ url: `${base}/slow`, method: 'POST', headers: {}, timeoutMs: 200 });
    expect(r.kind).toBe('timeout');
  });

  it('reuses keep-alive connections to an origin instead of opening one per push', async () => {
    const fresh = new Pusher();
    let connections = 0;
    const counting = http.createServer((_req, res) => res.writeHead(200).end());
    counting.on('connection', () => connections++);
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(counting.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 20; i++) {
        // Different paths and queries of one origin share its pool.
        expect(await fresh.push({ url: `${url}/t${i}?n=${i}`, method: 'POST', headers: {}, timeoutMs: 5000 })).toEqual({ kind: 'response', status: 200 });
      }
      // A push resolves as its answer completes, a moment before undici marks the connection
      // free, so the next push may open a second one; it must not open one per push.
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await fresh.close();
      counting.closeAllConnections();
      await new Promise((r) => counting.close(r));
    }
  });

  it('reports an unreachable target without throwing', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect((await pusher.push({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: {}, timeoutMs: 2000 })).kind).toBe('unreachable');
    expect((await pusher.push({ url: 'not a url', method: 'POST', headers: {}, timeoutMs: 2000 })).kind).toBe('unreachable');
  });
});
