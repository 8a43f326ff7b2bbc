/**
 * The HTTP runner against a real server on loopback, without nock: proves the production path
 * (undici's fetch over its pooled Agent) works, reuses connections, and times out for real.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHttpRunner } from '../../src/work/http.js';
import { makeCtx, makeJob, makeOptions } from './support.js';

let server: Server;
let base: string;
const sockets = new Set<unknown>();
let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_req, _body, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handle(req, body, res));
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('HTTP runner over a real connection', () => {
  it('delivers jobs over kept-alive connections and closes its pool', async () => {
    const runner = makeHttpRunner(`${base}/work`, makeOptions());
    handle = (req, body, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, attempt: req.headers['x-executor-attempt'], got: JSON.parse(body) as unknown }));
    };
    sockets.clear();
    for (let i = 0; i < 6; i++) {
      expect(await runner.run(makeJob(`f${i}`), makeCtx())).toEqual({
        kind: 'success',
        result: { path: '/work', attempt: '2', got: makeJob(`f${i}`).payload },
      });
    }
    // Kept alive: fewer connections than requests (release to the pool is asynchronous, so not exactly one).
    expect(sockets.size).toBeLessThan(6);
    const closed = [...sockets].map((s) => new Promise((resolve) => (s as NodeJS.EventEmitter).once('close', resolve)));
    await runner.close();
    // close() ends the pool: the server sees every connection go.
    await Promise.all(closed);
  });

  it('aborts a request the worker sits on past the time limit', async () => {
    const runner = makeHttpRunner(`${base}/slow`, makeOptions({ timeoutMs: 100 }));
    handle = () => undefined; // never answers
    expect(await runner.run(makeJob(), makeCtx())).toMatchObject({ kind: 'retryable', error: { type: 'Timeout' } });
    await runner.close();
  });

  it('reports Aborted when the executor shuts down mid-request', async () => {
    const runner = makeHttpRunner(`${base}/hang`, makeOptions({ timeoutMs: 60_000 }));
    handle = () => undefined; // never answers
    const controller = new AbortController();
    const pending = runner.run(makeJob(), makeCtx({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ kind: 'retryable', error: { type: 'Aborted' } });
    await runner.close();
  });

  it('does not let a hanging request hold close() for the whole time limit', async () => {
    const runner = makeHttpRunner(`${base}/hang`, makeOptions({ timeoutMs: 60_000 }));
    handle = () => undefined; // never answers
    const pending = runner.run(makeJob(), makeCtx());
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await runner.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await pending).toMatchObject({ kind: 'retryable', error: { type: 'Aborted' } });
  });

  it('reports a worker that drops the connection mid-request as a retryable ConnectionError', async () => {
    const runner = makeHttpRunner(`${base}/crash`, makeOptions({ timeoutMs: 5000 }));
    handle = (_req, _body, res) => res.socket?.destroy();
    expect(await runner.run(makeJob(), makeCtx())).toMatchObject({ kind: 'retryable', error: { type: 'ConnectionError' } });
    // The pool recovers: the next job gets a fresh connection.
    handle = (_req, _body, res) => res.end('ok');
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'ok' });
    await runner.close();
  });

  it('reports a worker that stops mid-body as a retryable ConnectionError', async () => {
    const runner = makeHttpRunner(`${base}/half`, makeOptions({ timeoutMs: 5000 }));
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    expect(await runner.run(makeJob(), makeCtx())).toMatchObject({ kind: 'retryable', error: { type: 'ConnectionError' } });
    await runner.close();
  });

  it('reports a refused connection as a retryable ConnectionError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const runner = makeHttpRunner(`http://127.0.0.1:${port}/`, makeOptions());
    expect(await runner.run(makeJob(), makeCtx())).toMatchObject({
      kind: 'retryable',
      error: { type: 'ConnectionError', message: expect.stringContaining('ECONNREFUSED') },
    });
    await runner.close();
  });
});
