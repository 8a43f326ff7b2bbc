/**
 * The push path end to end through Fastify's inject(), creating tasks with the real
 * CloudTasksClient against the emulator, whose paused queues keep every task for the test to read
 * (test/helpers/emulated-tasks.ts),
 * including the trace context every created task carries and the optional OpenTelemetry spans.
 */
import { fileURLToPath } from 'node:url';
import { propagation, trace, SpanKind } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CloudTasksClient } from '@google-cloud/tasks';
import type { FastifyInstance } from 'fastify';
import protobuf from 'protobufjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorConfig } from '../../src/config.js';
import { buildApp } from '../../src/executor/app.js';
import { RETRY_STATUS } from '../../src/executor/decide.js';
import { MESSAGING_SYSTEM } from '../../src/executor/spans.js';
import { traceHeadersToCarry } from '../../src/executor/trace.js';
import { outcomeTaskId } from '../../src/queues/names.js';
import { newEmulatorClient } from '../../src/queues/tasks-client.js';
import { Q, captureLogger, pushHeaders, scriptedRunner, testConfig, type ScriptedRunner } from '../helpers/executor-fixtures.js';
import type { Loose } from '../helpers/defined.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/work.proto', import.meta.url)));
const Request = root.lookupType('morais_protos.SvcWorkRequest');
const Response = root.lookupType('morais_protos.SvcWorkResponse');

function binaryRequest(fields: Record<string, unknown>): Buffer {
  return Buffer.from(Request.encode(Request.fromObject(fields)).finish());
}

const WEBHOOK = 'https://client.example.test/hook';
const NOW = new Date('2026-11-23T10:00:00.000Z');

let emulated: EmulatedTasks;
let client: CloudTasksClient;

beforeAll(async () => {
  emulated = await startEmulatedTasks(Object.values(Q));
  client = newEmulatorClient(emulated.host);
});
afterAll(async () => {
  await client.close();
  await emulated.close();
});

let app: FastifyInstance;
let runner: ScriptedRunner;
let log: ReturnType<typeof captureLogger>;

async function makeApp(overrides: Loose<ExecutorConfig> = {}) {
  await app?.close();
  runner = scriptedRunner();
  log = captureLogger();
  app = buildApp({ config: testConfig(overrides), runner, tasks: client, logger: log.logger, clock: () => NOW });
  await app.ready();
}

beforeEach(async () => {
  await emulated.reset();
  await makeApp();
});
afterEach(async () => {
  await app.close();
});

function push(body: Buffer | string, headers: Record<string, string> = pushHeaders(), url = '/') {
  return app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json', ...headers } });
}

const envelope = (extra: Record<string, unknown> = {}) => JSON.stringify({ payload: { n: 1 }, webhookUrl: WEBHOOK, context: { job: 'j1' }, id: 'job-1', ...extra });

describe('success', () => {
  it('notifies success through the notifier queue with the OIDC token, then answers 200', async () => {
    runner.respond(() => ({ kind: 'success', result: { words: 3 } }));
    const res = await push(envelope());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'success', action: 'notify', attempt: 1, handoff: { kind: 'notify-success', result: 'created' } });
    expect(await emulated.tasks()).toHaveLength(1);
    const task = (await emulated.tasks())[0]!;
    expect(task.queue).toBe(Q.notifier);
    expect(task.name).toBe(`${Q.notifier}/tasks/${outcomeTaskId('incoming/task-1')}`);
    expect(task.httpRequest.url).toBe(WEBHOOK);
    expect(task.httpRequest.httpMethod).toBe('POST');
    expect(task.httpRequest.oidcToken).toEqual({ serviceAccountEmail: 'tasks@test-project.iam.gserviceaccount.com', audience: WEBHOOK });
    expect(task.httpRequest.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(task.httpRequest.body.toString())).toEqual({
      id: 'job-1',
      context: { job: 'j1' },
      outcome: 'succeeded',
      result: { words: 3 },
      tier: 1,
      attempts: 1,
      path: [{ tier: 1, queue: 'incoming', attempts: 1 }],
      task: { queue: 'incoming', name: 'task-1', origin: 'incoming/task-1' },
      timestamps: { scheduledAt: new Date(1795000000500).toISOString(), completedAt: NOW.toISOString() },
    });
  });

  it('gives the runner the job and the delivery context', async () => {
    await push(envelope(), pushHeaders({ retryCount: 3, executionCount: 1 }));
    const { job, ctx } = runner.calls[0]!;
    expect(job).toEqual({ format: 'envelope', payload: { n: 1 }, webhookUrl: WEBHOOK });
    expect(ctx).toMatchObject({ attempt: 2, maxAttempts: 3, retryCount: 3, executionCount: 1, queue: 'incoming', taskName: 'task-1', tier: 1 });
    expect(ctx.signal).toBeInstanceOf(AbortSignal);
  });

  it('answers 200 without creating anything when there is no webhook and no NOTIFY_URL', async () => {
    const res = await push(JSON.stringify({ payload: 'x' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'success', action: 'ack' });
    expect(emulated.createCalls()).toBe(0);
  });

  it('notifies NOTIFY_URL when the job names no webhook', async () => {
    await makeApp({ notifyUrl: 'https://default.example.test/n' });
    const res = await push(JSON.stringify({ payload: 'x' }));
    expect(res.statusCode).toBe(200);
    expect((await emulated.tasks())[0]!.httpRequest.url).toBe('https://default.example.test/n');
  });

  it('answers a binary SvcWorkRequest labelled application/json with a binary SvcWorkResponse echoing the context', async () => {
    const body = binaryRequest({ sourceFile: 'gs://b/f', webhookUrl: WEBHOOK, context: { id: 'ctx-7' } });
    const res = await push(body);
    expect(res.statusCode).toBe(200);
    expect(runner.calls[0]!.job).toEqual({
      format: 'proto-binary',
      payload: { sourceFile: 'gs://b/f', webhookUrl: WEBHOOK, context: { id: 'ctx-7' } },
      webhookUrl: WEBHOOK,
    });
    const task = (await emulated.tasks())[0]!;
    expect(task.httpRequest.headers['Content-Type']).toBe('application/x-protobuf');
    expect(Response.toObject(Response.decode(task.httpRequest.body))).toEqual({ context: { id: 'ctx-7' } });
  });

  it('answers a proto3 JSON SvcWorkRequest with a proto3 JSON SvcWorkResponse', async () => {
    const res = await push(JSON.stringify({ sourceFile: 'a.txt', webhookUrl: WEBHOOK, context: { id: 'c1' } }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString())).toEqual({ context: { id: 'c1' } });
  });
});

describe('failures', () => {
  it(`answers ${RETRY_STATUS} (a 4xx, not 429) to a retryable failure with budget left, creating nothing`, async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'flaky' } }));
    const res = await push(envelope(), pushHeaders({ retryCount: 1 }));
    expect(res.statusCode).toBe(RETRY_STATUS);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.statusCode).not.toBe(429);
    expect(res.json()).toMatchObject({ outcome: 'retryable', action: 'retry', error: { type: 'Error', message: 'flaky' } });
    expect(emulated.createCalls()).toBe(0);
  });

  it('forwards the original body unchanged to the next tier when the budget is spent, naming the tier and path', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'still failing' } }));
    const body = binaryRequest({ sourceFile: 'invalid', webhookUrl: WEBHOOK });
    const res = await push(body, pushHeaders({ retryCount: 2, executionCount: 2 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ action: 'forward', handoff: { kind: 'forward', result: 'created' } });
    const task = (await emulated.tasks())[0]!;
    expect(task.queue).toBe(Q.incoming2);
    expect(task.httpRequest.url).toBe('https://tier-2.example.test/');
    expect(Buffer.compare(task.httpRequest.body, body)).toBe(0);
    expect(task.httpRequest.headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Executor-Tier': '2',
      'X-Executor-Path': 'incoming=3',
      'X-Executor-Origin': 'incoming/task-1',
    });
    expect(task.httpRequest.oidcToken?.audience).toBe('https://tier-2.example.test/');
  });

  it('at the last tier turns a spent budget into a failure notification reporting the whole path', async () => {
    await makeApp({ next: undefined, maxAttempts: 2 });
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Timeout', message: 'too slow' } }));
    const headers = pushHeaders({
      queue: 'incoming-3',
      task: 't3',
      retryCount: 1,
      extra: { 'x-executor-tier': '3', 'x-executor-path': 'incoming=20,incoming-2=5', 'x-executor-origin': 'incoming/task-0' },
    });
    const res = await push(envelope(), headers);
    expect(res.statusCode).toBe(200);
    const note = JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString());
    expect(note).toMatchObject({
      outcome: 'failed',
      error: { type: 'Timeout', message: 'too slow' },
      tier: 3,
      attempts: 27,
      path: [
        { tier: 1, queue: 'incoming', attempts: 20 },
        { tier: 2, queue: 'incoming-2', attempts: 5 },
        { tier: 3, queue: 'incoming-3', attempts: 2 },
      ],
      task: { queue: 'incoming-3', name: 't3', origin: 'incoming/task-0' },
    });
    // The job's one notification is named after its origin, whichever tier sends it.
    expect((await emulated.tasks())[0]!.name).toBe(`${Q.notifier}/tasks/${outcomeTaskId('incoming/task-0')}`);
  });

  it('sends a failure notification at once for a permanent failure, even with budget and a next tier left', async () => {
    runner.respond(() => ({ kind: 'permanent', error: { type: 'Error', message: 'invalid source file' } }));
    const res = await push(binaryRequest({ sourceFile: 'invalid', webhookUrl: WEBHOOK, context: { id: 'x' } }));
    expect(res.statusCode).toBe(200);
    expect((await emulated.tasks())[0]!.queue).toBe(Q.notifier);
    expect(Response.toObject(Response.decode((await emulated.tasks())[0]!.httpRequest.body))).toEqual({
      context: { id: 'x' },
      error: { type: 'Error', message: 'invalid source file' },
    });
  });

  it('drops an ignored job with 200 and no notification', async () => {
    runner.respond(() => ({ kind: 'ignore', reason: 'duplicate' }));
    const res = await push(envelope());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'ignore', action: 'ack' });
    expect(emulated.createCalls()).toBe(0);
  });

  it('retries (never drops) a job whose runner throws despite its contract', async () => {
    runner.respond(() => {
      throw new Error('bug');
    });
    const res = await push(envelope());
    expect(res.statusCode).toBe(RETRY_STATUS);
    expect(res.json()).toMatchObject({ outcome: 'retryable', error: { type: 'RunnerError' } });
  });
});

describe('handoffs', () => {
  it('creates no second task when the same delivery arrives twice (ALREADY_EXISTS counts as success)', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'x' } }));
    const first = await push(envelope(), pushHeaders({ retryCount: 2 }));
    const second = await push(envelope(), pushHeaders({ retryCount: 2 }));
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(first.json().handoff.result).toBe('created');
    expect(second.json().handoff).toEqual({ kind: 'forward', task: first.json().handoff.task, result: 'exists' });
    expect(emulated.createCalls()).toBe(2);
    expect(await emulated.tasks()).toHaveLength(1);
  });

  it('answers 503 when the enqueue fails, and its redelivery (not counted as an execution) redoes only the handoff, at the same attempt', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'x' } }));
    emulated.fail({ count: 1 });
    const failed = await push(envelope(), pushHeaders({ retryCount: 2, executionCount: 2 }));
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('10');
    expect(failed.json()).toMatchObject({ error: { code: 'HANDOFF_FAILED' } });
    expect(await emulated.tasks()).toHaveLength(0);
    expect(runner.calls).toHaveLength(1);

    // Cloud Tasks redelivers: RetryCount 3, but ExecutionCount stays 2 (a 503 is not an execution).
    const redelivered = await push(envelope(), pushHeaders({ retryCount: 3, executionCount: 2 }));
    expect(redelivered.statusCode).toBe(200);
    expect(redelivered.json()).toMatchObject({ outcome: 'retryable', action: 'forward', attempt: 3, handoff: { kind: 'forward', result: 'created' }, remembered: true });
    expect(runner.calls).toHaveLength(1);
    expect(await emulated.tasks()).toHaveLength(1);
    expect((await emulated.tasks())[0]!.httpRequest.headers['X-Executor-Path']).toBe('incoming=3');

    // Done: a later duplicate of the task is run like any other delivery.
    const duplicate = await push(envelope(), pushHeaders({ retryCount: 4, executionCount: 2 }));
    expect(duplicate.json()).toMatchObject({ handoff: { kind: 'forward', result: 'exists' } });
    expect(duplicate.json().remembered).toBeUndefined();
    expect(runner.calls).toHaveLength(2);
  });

  it('runs the work again when the redelivery reaches another instance, which does not remember the outcome', async () => {
    emulated.fail({ count: 1 });
    expect((await push(envelope())).statusCode).toBe(503);
    expect(runner.calls).toHaveLength(1);
    await makeApp();
    const redelivered = await push(envelope());
    expect(redelivered.json()).toMatchObject({ outcome: 'success', action: 'notify', handoff: { result: 'created' } });
    expect(redelivered.json().remembered).toBeUndefined();
    expect(runner.calls).toHaveLength(1);
  });

  it('runs the work when a task name whose handoff failed comes back with other bytes', async () => {
    emulated.fail({ count: 1 });
    expect((await push(envelope({ payload: 'first' }))).statusCode).toBe(503);
    const other = await push(envelope({ payload: 'second' }));
    expect(other.statusCode).toBe(200);
    expect(other.json().remembered).toBeUndefined();
    expect(runner.calls.map((c) => c.job.payload)).toEqual(['first', 'second']);
  });

  it('logs a delivery whose outcome was remembered with remembered: true', async () => {
    emulated.fail({ count: 1 });
    await push(envelope());
    await push(envelope());
    const deliveries = log.lines.filter((l) => l.message === 'delivery');
    expect(deliveries.map((l) => [l.status, l.remembered])).toEqual([
      [503, undefined],
      [200, true],
    ]);
  });

  it('asks for the Retry-After of RETRY_AFTER_SECONDS when a handoff cannot be enqueued', async () => {
    await makeApp({ retryAfterSeconds: 2 });
    emulated.fail({ count: 1 });
    const failed = await push(envelope());
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('2');
  });

  it('reports a success whose notification failed to enqueue as a success on the redelivery, never as a failure', async () => {
    emulated.fail({ count: 1 });
    const failed = await push(envelope(), pushHeaders({ retryCount: 2, executionCount: 2 }));
    expect(failed.statusCode).toBe(503);
    // Many more dispatches while the notifier queue is unreachable: none of them spends the budget.
    const redelivered = await push(envelope(), pushHeaders({ retryCount: 9, executionCount: 2 }));
    expect(redelivered.statusCode).toBe(200);
    expect(redelivered.json()).toMatchObject({ outcome: 'success', action: 'notify', attempt: 3 });
    expect(JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString())).toMatchObject({ outcome: 'succeeded' });
  });

  it('keeps a task on its own tier while handoffs fail: dispatches answered 503 never lead to a forward', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'x' } }));
    // Attempt 1 fails and is retried (409, counted); then the queue is unreachable for ten dispatches.
    expect((await push(envelope(), pushHeaders({ retryCount: 0, executionCount: 0 }))).statusCode).toBe(RETRY_STATUS);
    for (let retry = 1; retry <= 10; retry++) {
      const res = await push(envelope(), pushHeaders({ retryCount: retry, executionCount: 1 }));
      expect(res.statusCode).toBe(RETRY_STATUS);
      expect(res.json()).toMatchObject({ action: 'retry', attempt: 2 });
    }
    expect(await emulated.tasks()).toHaveLength(0);
  });

  it('past the budget (executions Cloud Tasks counted without the work running) runs the work before any handoff', async () => {
    await makeApp({ next: undefined });
    const res = await push(envelope(), pushHeaders({ retryCount: 5, executionCount: 5 }));
    expect(res.statusCode).toBe(200);
    expect(runner.calls).toHaveLength(1);
    expect(res.json()).toMatchObject({ outcome: 'success', action: 'notify' });
    expect(JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString())).toMatchObject({ outcome: 'succeeded' });
  });

  it('names a job\'s notification once whatever the outcome: a later, different decision creates nothing new', async () => {
    await makeApp({ next: undefined });
    runner.respond(() => ({ kind: 'success' }));
    const first = await push(envelope(), pushHeaders({ retryCount: 2, executionCount: 2 }));
    expect(first.json()).toMatchObject({ action: 'notify', handoff: { kind: 'notify-success', result: 'created' } });
    // A duplicate delivery whose run fails this time decides "failed": its notification already exists.
    runner.respond(() => ({ kind: 'permanent', error: { type: 'Error', message: 'flaky' } }));
    const second = await push(envelope(), pushHeaders({ retryCount: 2, executionCount: 2 }));
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ action: 'notify', handoff: { kind: 'notify-failure', task: first.json().handoff.task, result: 'exists' } });
    expect(await emulated.tasks()).toHaveLength(1);
    expect(JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString())).toMatchObject({ outcome: 'succeeded' });
  });

  it('gives the notification sent by a later tier the same name as one sent by the first tier', async () => {
    // Tier 1 notified success for task-1 (e.g. a redelivery after a forward that was created
    // but never acknowledged); tier 2 then fails the forwarded copy for good.
    await push(envelope(), pushHeaders({ retryCount: 0, executionCount: 0 }));
    await makeApp({ next: undefined, tier: 2 });
    runner.respond(() => ({ kind: 'permanent', error: { type: 'Error', message: 'late failure' } }));
    const tier2 = await push(envelope(), pushHeaders({ queue: 'incoming-2', task: 'forward-abc', extra: { 'x-executor-tier': '2', 'x-executor-path': 'incoming=3', 'x-executor-origin': 'incoming/task-1' } }));
    expect(tier2.json()).toMatchObject({ action: 'notify', handoff: { result: 'exists' } });
    expect(await emulated.tasks()).toHaveLength(1);
    expect(JSON.parse((await emulated.tasks())[0]!.httpRequest.body.toString())).toMatchObject({ outcome: 'succeeded' });
  });

  it('creates server-named tasks when the push carries no Cloud Tasks names', async () => {
    const res = await push(envelope(), {});
    expect(res.statusCode).toBe(200);
    expect(res.json().handoff).toEqual({ kind: 'notify-success', result: 'created' });
  });
});

describe('undecodable bodies', () => {
  it('answers 400 with a JSON error and creates nothing when there is no dead-letter queue', async () => {
    const res = await push(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ outcome: 'undecodable', action: 'reject', error: { type: 'UndecodableBody' } });
    expect(runner.calls).toHaveLength(0);
    expect(emulated.createCalls()).toBe(0);
    expect(log.lines.some((l) => l.severity === 'ERROR' && l.outcome === 'undecodable')).toBe(true);
  });

  it('dead-letters the raw bytes with the error, then answers 200', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    const raw = Buffer.from('{"payload": oops}');
    const res = await push(raw, pushHeaders({ extra: { 'content-type': 'text/plain' } }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'undecodable', action: 'dead-letter', handoff: { kind: 'dead-letter', result: 'created' } });
    const task = (await emulated.tasks())[0]!;
    expect(task.queue).toBe(Q.deadLetter);
    expect(Buffer.compare(task.httpRequest.body, raw)).toBe(0);
    expect(task.httpRequest.headers['Content-Type']).toBe('text/plain');
    expect(task.httpRequest.headers['X-Executor-Error']).toContain('does not parse');
    expect(task.httpRequest.headers['X-Executor-Error-Type']).toBe('UndecodableBody');
  });

  it('parks a poison body nested 5,000 deep as undecodable (dead letter), never answering 5xx', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    const poison = `{"payload":1,"webhookUrl":"${WEBHOOK}","context":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await push(poison);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'undecodable', action: 'dead-letter' });
    expect(runner.calls).toHaveLength(0);
    const task = (await emulated.tasks())[0]!;
    expect(task.queue).toBe(Q.deadLetter);
    expect(task.httpRequest.headers['X-Executor-Error']).toContain('nests deeper than');
  });

  it('never quotes the body in the 400 answer, the log line or the dead letter\'s error header', async () => {
    const bodies = ['{"payload":1,"sk-secret-key":2}', '{"sk-secret":tru}', '{"sourceFile":"a","sk-secret":1}'];
    for (const body of bodies) {
      const res = await push(body);
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('sk-secret');
    }
    expect(log.raw.join('\n')).not.toContain('sk-secret');
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    for (const [i, body] of bodies.entries()) expect((await push(body, pushHeaders({ task: `t${i}` }))).statusCode).toBe(200);
    for (const task of await emulated.tasks()) expect(task.httpRequest.headers['X-Executor-Error']).not.toContain('sk-secret');
  });

  it('rejects an empty body', async () => {
    const res = await push('');
    expect(res.statusCode).toBe(400);
  });
});

describe('an unexpected failure of the push path', () => {
  // A WorkError the notification encoder cannot serialise (a BigInt): the same push fails the same
  // way on every delivery, and a 5xx (which Cloud Tasks does not count) would loop forever.
  const unencodable = () => ({ kind: 'permanent' as const, error: { type: 'Bad', message: 'x', detail: 1n } as never });

  it('dead-letters the raw body and answers 200 instead of 5xx', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    runner.respond(unencodable);
    const res = await push(envelope());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'internal', action: 'dead-letter', handoff: { kind: 'dead-letter', result: 'created' } });
    const task = (await emulated.tasks())[0]!;
    expect(task.queue).toBe(Q.deadLetter);
    expect(task.httpRequest.body.toString()).toBe(envelope());
    expect(task.httpRequest.headers['X-Executor-Error-Type']).toBe('InternalError');
    expect(log.lines.some((l) => l.severity === 'ERROR' && l.outcome === 'internal')).toBe(true);
  });

  it('answers 400 (counted by Cloud Tasks) when there is no dead-letter queue', async () => {
    runner.respond(unencodable);
    const res = await push(envelope());
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ outcome: 'internal', action: 'reject', error: { type: 'InternalError' } });
    expect(emulated.createCalls()).toBe(0);
  });
});

describe('HTTP surface', () => {
  it('answers 413 to a body over 1 MB', async () => {
    const res = await push(Buffer.alloc(1024 * 1024 + 1, 0x41));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    expect(runner.calls).toHaveLength(0);
  });

  it('accepts a push on any path and with any or no content type', async () => {
    expect((await push(envelope(), pushHeaders(), '/some/where?x=1')).statusCode).toBe(200);
    const res = await app.inject({ method: 'POST', url: '/', payload: envelope(), headers: { ...pushHeaders({ task: 't2' }), 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(200);
    const none = await app.inject({ method: 'POST', url: '/x', payload: Buffer.from(envelope()), headers: pushHeaders({ task: 't3' }) });
    expect(none.statusCode).toBe(200);
  });

  it('answers GET /health with 200', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
  });

  it('counts a push as in flight while its work runs', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    runner.respond(async () => {
      await held;
      return { kind: 'success' };
    });
    const pending = push(envelope());
    await expect.poll(() => runner.calls.length).toBe(1);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('executor_pushes_in_flight 1');
    release();
    await pending;
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('executor_pushes_in_flight 0');
  });

  it('serves Prometheus metrics from a registry of its own', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'x' } }));
    await push(envelope());
    await push(envelope(), pushHeaders({ retryCount: 2 }));
    const other = buildApp({ config: testConfig(), runner, tasks: client, logger: log.logger });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`executor_deliveries_total{outcome="retryable",status="${RETRY_STATUS}"} 1`);
    expect(res.body).toContain('executor_deliveries_total{outcome="retryable",status="200"} 1');
    expect(res.body).toContain('executor_handoffs_total{kind="forward",result="created"} 1');
    expect(res.body).toContain('executor_delivery_duration_seconds_count{outcome="retryable"} 2');
    expect(res.body).toContain('executor_handoff_duration_seconds_count{kind="forward",result="created"} 1');
    // Process metrics on the app's own registry, and the in-flight gauge (nothing in flight between pushes).
    expect(res.body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.body).toMatch(/^process_resident_memory_bytes \d/m);
    expect(res.body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(res.body).toContain('executor_pushes_in_flight 0');
    const fresh = await other.inject({ method: 'GET', url: '/metrics' });
    expect(fresh.body).not.toContain('executor_deliveries_total{');
    await other.close();
  });

  it('logs one line per delivery with its facts and trace, never the payload', async () => {
    const secret = 'sk-very-secret-payload-value';
    await push(
      JSON.stringify({ payload: { secret }, webhookUrl: WEBHOOK }),
      pushHeaders({ retryCount: 1, extra: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', authorization: 'Bearer abc' } }),
    );
    const lines = log.lines.filter((l) => l.message === 'delivery');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'INFO',
      queue: 'incoming',
      task: 'task-1',
      attempt: 2,
      outcome: 'success',
      action: 'notify',
      status: 200,
      tier: 1,
      'logging.googleapis.com/trace': 'projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
    });
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(log.raw.join('\n')).not.toContain(secret);
    expect(log.raw.join('\n')).not.toContain('Bearer abc');
  });

  it('reads the trace from X-Cloud-Trace-Context when there is no traceparent', async () => {
    await push(envelope(), pushHeaders({ extra: { 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1' } }));
    const line = log.lines.find((l) => l.message === 'delivery')!;
    expect(line['logging.googleapis.com/trace']).toBe('projects/test-project/traces/105445aa7843bc8bf206b12000100000');
    expect(line['logging.googleapis.com/spanId']).toBe('0000000000000001');
  });

  it('logs an error when a failure cannot be notified because the job names no webhook', async () => {
    runner.respond(() => ({ kind: 'permanent', error: { type: 'Error', message: 'bad' } }));
    const res = await push(JSON.stringify({ payload: 1 }));
    expect(res.statusCode).toBe(200);
    expect(log.lines.find((l) => l.message === 'delivery')).toMatchObject({ severity: 'ERROR', unnotified: expect.stringContaining('no webhook') });
  });
});

describe('a chain of tiers', () => {
  it('carries the path through a forward so the last tier reports every tier and attempt', async () => {
    // Tier 1 (budget 3) forwards after its third failure.
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'tier 1 failed' } }));
    const body = JSON.stringify({ id: 'chain-1', payload: { n: 1 }, webhookUrl: WEBHOOK });
    expect((await push(body, pushHeaders({ queue: 'incoming', task: 'orig-1', retryCount: 2 }))).statusCode).toBe(200);
    const forwarded = (await emulated.tasks(Q.incoming2))[0]!;

    // Deliver the forwarded task to tier 2 (the last tier, budget 2) as Cloud Tasks would.
    await makeApp({ next: undefined, maxAttempts: 2 });
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'tier 2 failed' } }));
    const taskId = forwarded.name.split('/').pop()!;
    const headers = { ...forwarded.httpRequest.headers, ...pushHeaders({ queue: 'incoming-2', task: taskId, retryCount: 1 }) };
    const res = await app.inject({ method: 'POST', url: '/', payload: forwarded.httpRequest.body, headers });
    expect(res.statusCode).toBe(200);
    expect(runner.calls[0]!.ctx.tier).toBe(2);
    const note = JSON.parse((await emulated.tasks(Q.notifier))[0]!.httpRequest.body.toString());
    expect(note).toMatchObject({
      id: 'chain-1',
      outcome: 'failed',
      error: { message: 'tier 2 failed' },
      tier: 2,
      attempts: 5,
      path: [
        { tier: 1, queue: 'incoming', attempts: 3 },
        { tier: 2, queue: 'incoming-2', attempts: 2 },
      ],
      task: { queue: 'incoming-2', name: taskId, origin: 'incoming/orig-1' },
    });
  });
});

// ---- one trace across tiers: trace context carried onto every created task, optional spans ----

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
const spent = { kind: 'retryable', error: { type: 'Error', message: 'still failing' } } as const;

describe('trace context without an OpenTelemetry SDK', () => {
  it("carries the push's traceparent and tracestate unchanged onto the forwarded task", async () => {
    runner.respond(() => spent);
    const res = await push(envelope(), pushHeaders({ retryCount: 2, extra: { traceparent: TRACEPARENT, tracestate: 'vendor=x' } }));
    expect(res.json()).toMatchObject({ action: 'forward' });
    expect((await emulated.tasks())[0]!.httpRequest.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=x' });
    // The delivery's log line carries the same trace id, as the next tier's will.
    expect(log.lines.find((l) => l.message === 'delivery')).toMatchObject({ 'logging.googleapis.com/trace': `projects/test-project/traces/${TRACE_ID}` });
  });

  it("carries the push's trace onto success and failure notifications", async () => {
    await push(envelope(), pushHeaders({ extra: { traceparent: TRACEPARENT } }));
    await makeApp({ next: undefined });
    runner.respond(() => spent);
    await push(envelope(), pushHeaders({ task: 'task-2', retryCount: 2, extra: { 'x-cloud-trace-context': `${TRACE_ID}/123;o=1` } }));
    const tasks = await emulated.tasks(Q.notifier);
    expect(tasks.map((t) => t.httpRequest.headers['X-Executor-Outcome'])).toEqual(['succeeded', 'failed']);
    expect(tasks[0]!.httpRequest.headers.traceparent).toBe(TRACEPARENT);
    expect(tasks[1]!.httpRequest.headers['X-Cloud-Trace-Context']).toBe(`${TRACE_ID}/123;o=1`);
  });

  it('carries the trace onto a dead-lettered body', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    await push('{not json', pushHeaders({ extra: { traceparent: TRACEPARENT } }));
    expect((await emulated.tasks())[0]!.queue).toBe(Q.deadLetter);
    expect((await emulated.tasks())[0]!.httpRequest.headers.traceparent).toBe(TRACEPARENT);
  });

  it('adds no trace headers when the push had none, or only a malformed one', () => {
    expect(traceHeadersToCarry({})).toEqual({});
    expect(traceHeadersToCarry({ traceparent: 'garbage' })).toEqual({});
    expect(traceHeadersToCarry({ traceparent: `00-${'0'.repeat(32)}-${PARENT_SPAN}-01` })).toEqual({});
  });
});

describe('spans with an OpenTelemetry SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  it('records the delivery as a consumer span of the push trace and the handoff as its producer child, which the task continues', async () => {
    runner.respond(() => spent);
    await push(envelope(), pushHeaders({ retryCount: 2, extra: { traceparent: TRACEPARENT } }));
    const spans = exporter.getFinishedSpans();
    const delivery = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
    const handoff = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(spans).toHaveLength(2);
    expect(delivery.name).toBe('process incoming');
    expect(delivery.spanContext().traceId).toBe(TRACE_ID);
    expect(delivery.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(delivery.attributes).toMatchObject({
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'incoming',
      'messaging.message.id': 'task-1',
      'executor.attempt': 3,
      'executor.tier': 1,
      'executor.outcome': 'retryable',
      'executor.action': 'forward',
      'http.response.status_code': 200,
    });
    expect(handoff.name).toBe('send incoming-2');
    expect(handoff.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
    expect(handoff.attributes).toMatchObject({ 'messaging.system': MESSAGING_SYSTEM, 'messaging.operation.type': 'send', 'executor.handoff.kind': 'forward', 'executor.handoff.result': 'created' });
    // The next tier's delivery will be a child of this handoff, in the same trace.
    expect((await emulated.tasks())[0]!.httpRequest.headers.traceparent).toBe(`00-${TRACE_ID}-${handoff.spanContext().spanId}-01`);
  });

  it('records one span for a delivery that needs no handoff', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'again' } }));
    await push(envelope(), pushHeaders({ extra: { traceparent: TRACEPARENT } }));
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['executor.action']])).toEqual([['process incoming', 'retry']]);
  });
});

describe('spans after the SDK is gone', () => {
  it('records nothing and passes the trace on unchanged', async () => {
    const exporter = new InMemorySpanExporter();
    // A provider that is never registered globally must see nothing from the executor.
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    runner.respond(() => spent);
    await push(envelope(), pushHeaders({ retryCount: 2, extra: { traceparent: TRACEPARENT } }));
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect((await emulated.tasks())[0]!.httpRequest.headers.traceparent).toBe(TRACEPARENT);
  });
});
