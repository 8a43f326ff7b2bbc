import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeHttpRunner } from '../../src/work/http.js';
import { makeRunner } from '../../src/work/index.js';
import type { Runner } from '../../src/work/types.js';
import { logSink, makeCtx, makeJob, makeOptions } from './support.js';

const WORKER = 'http://worker.internal';

let runner: Runner;

beforeAll(() => {
  nock.disableNetConnect();
  runner = makeHttpRunner(`${WORKER}/run`, makeOptions({ timeoutMs: 2000, maxOutputBytes: 64 }));
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

afterAll(async () => {
  await runner.close();
  nock.enableNetConnect();
  nock.restore();
});

describe('HTTP runner request', () => {
  it('POSTs the payload as JSON with the delivery metadata in X-Executor-* headers', async () => {
    let body: unknown;
    let headers: Record<string, string | string[] | undefined> = {};
    nock(WORKER)
      .post('/run')
      .reply(async (request: Request) => {
        body = await request.json();
        headers = Object.fromEntries(request.headers);
        return [204];
      });
    const outcome = await runner.run(makeJob('gs://b/f.txt'), makeCtx({ attempt: 3, retryCount: 2, executionCount: 0, tier: 2 }));
    expect(outcome).toEqual({ kind: 'success' });
    expect(body).toEqual(makeJob('gs://b/f.txt').payload);
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'x-executor-attempt': '3',
      'x-executor-max-attempts': '5',
      'x-executor-retry-count': '2',
      'x-executor-execution-count': '0',
      'x-executor-tier': '2',
      'x-executor-queue': 'incoming',
      'x-executor-task': 'task-123',
      'x-executor-format': 'proto-json',
    });
    expect(headers.authorization).toBeUndefined();
  });

  it('sends a Pub/Sub message\'s subscription, id and attributes (JSON, ASCII-only) for a Pub/Sub push', async () => {
    let headers: Record<string, string | string[] | undefined> = {};
    nock(WORKER)
      .post('/run')
      .reply((request: Request) => {
        headers = Object.fromEntries(request.headers);
        return [200];
      });
    const pubsub = { subscription: 'projects/p/subscriptions/jobs', messageId: '42', attributes: { kind: 'thumb', city: 'Zürich' }, deliveryAttempt: 2 };
    await runner.run(makeJob(), makeCtx({ pubsub }));
    expect(headers).toMatchObject({ 'x-executor-subscription': 'projects/p/subscriptions/jobs', 'x-executor-message-id': '42' });
    expect(headers['x-executor-attributes']).toBe('{"kind":"thumb","city":"Z\\u00fcrich"}');
    expect(JSON.parse(headers['x-executor-attributes'] as string)).toEqual(pubsub.attributes);
  });

  it('leaves out metadata the delivery did not carry', async () => {
    let headers: Record<string, string | string[] | undefined> = {};
    nock(WORKER)
      .post('/run')
      .reply((request: Request) => {
        headers = Object.fromEntries(request.headers);
        return [200];
      });
    await runner.run(makeJob(), makeCtx({ queue: undefined, taskName: undefined }));
    expect(headers['x-executor-queue']).toBeUndefined();
    expect(headers['x-executor-task']).toBeUndefined();
    expect(headers['x-executor-attributes']).toBeUndefined();
  });

  it('sends credentials from the URL as Basic auth and keeps them out of errors', async () => {
    const withAuth = makeHttpRunner(`http://user:s3cr%40t@worker.internal/run`, makeOptions());
    let auth: unknown;
    nock(WORKER)
      .post('/run')
      .reply((request: Request) => {
        auth = request.headers.get('authorization') ?? undefined;
        return [500, 'oops'];
      });
    const outcome = await withAuth.run(makeJob(), makeCtx());
    await withAuth.close();
    expect(auth).toBe(`Basic ${Buffer.from('user:s3cr@t').toString('base64')}`);
    expect(JSON.stringify(outcome)).not.toContain('s3cr');
    expect(outcome).toMatchObject({ kind: 'retryable', error: { message: expect.stringContaining('http://worker.internal/run answered 500') } });
  });

  it('refuses a non-http WORKER_URL at startup', () => {
    expect(() => makeHttpRunner('ftp://worker.internal/', makeOptions())).toThrow(expect.objectContaining({ code: 'WORKER_URL_INVALID' }));
  });
});

describe('HTTP runner outcomes', () => {
  it('succeeds on 2xx and reports a JSON body as the result', async () => {
    nock(WORKER).post('/run').reply(200, { files: 3 });
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: { files: 3 } });
  });

  it('reports a text body as text, and no result for an empty one', async () => {
    nock(WORKER).post('/run').reply(201, 'stored', { 'content-type': 'text/plain' });
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'stored' });
    nock(WORKER).post('/run').reply(202);
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success' });
  });

  it('bounds the response body at WORKER_MAX_OUTPUT_BYTES, truncating it as text', async () => {
    const sink = logSink();
    nock(WORKER).post('/run').reply(200, { big: 'y'.repeat(10_000) });
    const outcome = await runner.run(makeJob(), makeCtx({ logger: sink.logger }));
    expect(outcome.kind).toBe('success');
    const result = outcome.kind === 'success' ? (outcome.result as string) : '';
    expect(typeof result).toBe('string');
    expect(Buffer.byteLength(result)).toBeLessThanOrEqual(64);
    expect(result.startsWith('{"big":"yyy')).toBe(true);
    expect(sink.lines.some((l) => l.severity === 'WARNING')).toBe(true);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries when the worker answers %i', async (status) => {
    nock(WORKER).post('/run').reply(status, 'try later');
    expect(await runner.run(makeJob(), makeCtx())).toEqual({
      kind: 'retryable',
      error: { type: 'HttpStatus', message: `worker http://worker.internal/run answered ${status}: try later` },
    });
  });

  it.each([400, 401, 403, 404, 409, 422])('fails for good when the worker answers %i', async (status) => {
    nock(WORKER).post('/run').reply(status, { error: 'bad job' });
    expect(await runner.run(makeJob(), makeCtx())).toEqual({
      kind: 'permanent',
      error: { type: 'HttpStatus', message: `worker http://worker.internal/run answered ${status}: {"error":"bad job"}` },
    });
  });

  it('does not follow a redirect: the job is not re-sent elsewhere and the failure says why', async () => {
    nock(WORKER).post('/run').reply(302, '', { location: 'http://elsewhere.internal/run' });
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome).toMatchObject({ kind: 'permanent', error: { message: expect.stringContaining('point WORKER_URL at the final URL') } });
  });

  it('bounds the error body quoted in the failure message', async () => {
    nock(WORKER).post('/run').reply(500, 'z'.repeat(100_000));
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome.kind === 'retryable' && outcome.error.message.length).toBeLessThan(1200);
  });

  it('retries with ConnectionError when the worker cannot be reached', async () => {
    nock(WORKER).post('/run').replyWithError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:80'), { code: 'ECONNREFUSED' }));
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome).toMatchObject({
      kind: 'retryable',
      error: { type: 'ConnectionError', message: expect.stringContaining('ECONNREFUSED') },
    });
  });

  it('is what makeRunner builds for a WORKER_URL', async () => {
    const built = await makeRunner({ kind: 'http', url: `${WORKER}/run` }, makeOptions());
    expect(built.kind).toBe('http');
    nock(WORKER).post('/run').reply(200, '"ok"');
    expect(await built.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'ok' });
    await built.close();
  });
});
