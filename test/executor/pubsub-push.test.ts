/**
 * Pub/Sub push deliveries through Fastify's inject(), creating tasks and publishing with the real
 * clients against the emulator: the envelope is recognised and unwrapped, garbage envelopes are
 * parked like undecodable bodies, the attempt is deliveryAttempt, and a spent budget is forwarded
 * (to a queue or a topic) and acked with 200, never 202.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import protobuf from 'protobufjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorConfig, TopicPath } from '../../src/config.js';
import { buildApp } from '../../src/executor/app.js';
import { RETRY_STATUS } from '../../src/executor/decide.js';
import { unwrapPubSub } from '../../src/executor/pubsub-envelope.js';
import { handoffTaskId } from '../../src/queues/names.js';
import { closePubSubClients } from '../../src/queues/pubsub-client.js';
import { Q, captureLogger, pushHeaders, scriptedRunner, testConfig, type ScriptedRunner } from '../helpers/executor-fixtures.js';
import type { Loose } from '../helpers/defined.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';
import { emulatedTopics, type EmulatedTopics } from '../helpers/emulated-pubsub.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/work.proto', import.meta.url)));
const Request = root.lookupType('morais_protos.SvcWorkRequest');

const SUBSCRIPTION = 'projects/test-project/subscriptions/jobs-tier1';
const NEXT = 'projects/test-project/topics/jobs-tier2' as TopicPath;
const WEBHOOK = 'https://client.example.test/hook';

let emulated: EmulatedTasks;
let topics: EmulatedTopics;

beforeAll(async () => {
  emulated = await startEmulatedTasks(Object.values(Q));
  topics = emulatedTopics(emulated.host);
  await topics.createTopic(NEXT);
});
afterAll(async () => {
  await closePubSubClients();
  await emulated.close();
});

let app: FastifyInstance;
let runner: ScriptedRunner;
let log: ReturnType<typeof captureLogger>;

async function makeApp(overrides: Loose<ExecutorConfig> = {}) {
  await app?.close();
  runner = scriptedRunner();
  log = captureLogger();
  app = buildApp({ config: testConfig(overrides), runner, tasks: emulated.client, publisher: topics.publisher, logger: log.logger });
  await app.ready();
}

beforeEach(async () => {
  await emulated.reset();
  await topics.drain(NEXT);
  await makeApp();
});
afterEach(async () => {
  await app.close();
});

/** A push envelope as Pub/Sub sends it (both id spellings; deliveryAttempt only with a dead-letter policy). */
function envelopeOf(data: Buffer | string, options: { attributes?: Record<string, string>; deliveryAttempt?: number; messageId?: string } = {}) {
  const messageId = options.messageId ?? '1234567890';
  return JSON.stringify({
    message: {
      data: Buffer.from(data).toString('base64'),
      ...(options.attributes !== undefined ? { attributes: options.attributes } : {}),
      messageId,
      message_id: messageId,
      publishTime: '2026-12-04T02:00:00.000Z',
      publish_time: '2026-12-04T02:00:00.000Z',
    },
    subscription: SUBSCRIPTION,
    ...(options.deliveryAttempt !== undefined ? { deliveryAttempt: options.deliveryAttempt } : {}),
  });
}

function push(body: string | Buffer) {
  // A Pub/Sub push carries no X-CloudTasks-* headers.
  return app.inject({ method: 'POST', url: '/', payload: body, headers: { 'content-type': 'application/json' } });
}

const job = JSON.stringify({ payload: { n: 1 }, webhookUrl: WEBHOOK, id: 'job-1' });

describe('recognising the Pub/Sub envelope', () => {
  it('runs message.data as the job, with the message facts in the run context', async () => {
    const res = await push(envelopeOf(job, { attributes: { kind: 'thumbnail' }, deliveryAttempt: 2 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'success', action: 'notify', attempt: 2 });
    const [call] = runner.calls;
    expect(call!.job).toEqual({ format: 'envelope', payload: { n: 1 }, webhookUrl: WEBHOOK });
    expect(call!.ctx.attempt).toBe(2);
    expect(call!.ctx.queue).toBe('jobs-tier1');
    expect(call!.ctx.taskName).toBe('1234567890');
    expect(call!.ctx.pubsub).toEqual({
      subscription: SUBSCRIPTION,
      messageId: '1234567890',
      attributes: { kind: 'thumbnail' },
      deliveryAttempt: 2,
      publishTime: '2026-12-04T02:00:00.000Z',
    });
  });

  it('decodes every job format inside message.data: binary SvcWorkRequest, its JSON form, the JSON envelope, Firebase {data}', async () => {
    const binary = Buffer.from(Request.encode(Request.fromObject({ sourceFile: 'gs://b/f', context: { id: 'b' } })).finish());
    for (const [data, format] of [
      [binary, 'proto-binary'],
      [JSON.stringify({ sourceFile: 'gs://b/f', context: { id: 'j' } }), 'proto-json'],
      [job, 'envelope'],
      [JSON.stringify({ data: { any: 'thing' } }), 'firebase'],
    ] as const) {
      expect((await push(envelopeOf(data))).statusCode).toBe(200);
      expect(runner.calls.at(-1)!.job.format).toBe(format);
    }
  });

  it('names the notification task after the subscription and message id, so a redelivered message notifies once', async () => {
    await push(envelopeOf(job, { deliveryAttempt: 1 }));
    const again = await push(envelopeOf(job, { deliveryAttempt: 2 }));
    expect(again.json().handoff).toMatchObject({ kind: 'notify-success', result: 'exists' });
    const tasks = await emulated.tasks(Q.notifier);
    expect(tasks).toHaveLength(1);
    expect(JSON.parse(tasks[0]!.httpRequest.body.toString())).toMatchObject({ task: { queue: 'jobs-tier1', name: '1234567890', origin: 'jobs-tier1/1234567890' } });
  });

  it('leaves bodies that only look alike to the codecs: an object with `message` but no `subscription` is not an envelope', () => {
    expect(unwrapPubSub(Buffer.from(JSON.stringify({ message: { data: 'eyJ9' } })))).toEqual({ kind: 'none' });
    expect(unwrapPubSub(Buffer.from(job))).toEqual({ kind: 'none' });
    expect(unwrapPubSub(Buffer.from('{"message": 1, "subscription": "x"'))).toEqual({ kind: 'none' });
  });
});

describe('garbage envelopes', () => {
  const GARBAGE: [string, string, RegExp][] = [
    ['message is not an object', JSON.stringify({ message: 'hi', subscription: SUBSCRIPTION }), /message/],
    ['data is not base64', JSON.stringify({ message: { data: '***', messageId: '1' }, subscription: SUBSCRIPTION }), /message\.data: must be base64/],
    ['the subscription is not a subscription name', JSON.stringify({ message: { data: 'e30=', messageId: '1' }, subscription: 'jobs' }), /subscription: must be projects/],
    ['there is no message id', JSON.stringify({ message: { data: 'e30=' }, subscription: SUBSCRIPTION }), /messageId is required/],
    ['deliveryAttempt is 0', JSON.stringify({ message: { data: 'e30=', messageId: '1' }, subscription: SUBSCRIPTION, deliveryAttempt: 0 }), /deliveryAttempt: must be at least 1/],
    ['an attribute is not a string', JSON.stringify({ message: { data: 'e30=', messageId: '1', attributes: { n: 1 } }, subscription: SUBSCRIPTION }), /attributes/],
  ];

  it.each(GARBAGE)('answers 400 BODY_UNDECODABLE without running anything when %s (no dead-letter queue)', async (_name, body, reason) => {
    const res = await push(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ outcome: 'undecodable', action: 'reject', error: { type: 'MalformedPushEnvelope' } });
    expect(res.json().error.message).toMatch(reason);
    expect(runner.calls).toHaveLength(0);
  });

  it('dead-letters a garbage envelope whole and acks it with 200 when a dead-letter queue is configured', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    const body = GARBAGE[1]![1];
    const res = await push(body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ action: 'dead-letter', handoff: { kind: 'dead-letter', result: 'created' } });
    const [task] = await emulated.tasks(Q.deadLetter);
    expect(task!.httpRequest.body.toString()).toBe(body);
    expect(task!.httpRequest.headers['X-Executor-Error-Type']).toBe('MalformedPushEnvelope');
  });

  it('treats a valid envelope whose data is no job like any undecodable body, dead-lettering the envelope as received', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    const body = envelopeOf('not a job at all', { attributes: { kind: 'x' }, deliveryAttempt: 1 });
    const res = await push(body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'undecodable', action: 'dead-letter' });
    const [task] = await emulated.tasks(Q.deadLetter);
    expect(task!.httpRequest.body.toString()).toBe(body);
    expect(task!.name).toBe(`${Q.deadLetter}/tasks/${handoffTaskId('jobs-tier1', '1234567890', 'dead-letter')}`);
  });
});

describe('attempt accounting', () => {
  const failing = () => runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'flaky' } }));

  it('nacks a retryable failure with budget left with RETRY_STATUS (409), and forwards on deliveryAttempt = MAX_ATTEMPTS', async () => {
    failing();
    for (const attempt of [1, 2]) {
      const res = await push(envelopeOf(job, { deliveryAttempt: attempt }));
      expect(res.statusCode).toBe(RETRY_STATUS);
      expect(res.json()).toMatchObject({ action: 'retry', attempt });
    }
    const last = await push(envelopeOf(job, { deliveryAttempt: 3 }));
    expect(last.statusCode).toBe(200);
    expect(last.json()).toMatchObject({ action: 'forward', attempt: 3, handoff: { kind: 'forward', result: 'created' } });
    expect(runner.calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 3]);
  });

  it('counts every push without deliveryAttempt as attempt 1: it never forwards, and says once that the budget cannot be counted', async () => {
    failing();
    for (let i = 0; i < 5; i++) expect((await push(envelopeOf(job))).statusCode).toBe(RETRY_STATUS);
    expect(runner.calls.every((c) => c.ctx.attempt === 1 && c.ctx.pubsub?.deliveryAttempt === undefined)).toBe(true);
    expect(await emulated.tasks(Q.incoming2)).toEqual([]);
    const warnings = log.lines.filter((l) => l.code === 'PUBSUB_ATTEMPTS_UNCOUNTED');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/budget cannot be counted/);
  });

  it('treats a deliveryAttempt past the budget (nacked 503s count there too) as the last attempt: runs the work, then forwards', async () => {
    failing();
    const res = await push(envelopeOf(job, { deliveryAttempt: 7 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ action: 'forward' });
    expect(runner.calls).toHaveLength(1);
  });
});

describe('forward and ack at the budget', () => {
  const failing = () => runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'flaky' } }));

  it('forwards message.data (not the envelope) to the next tier queue with the forwarding headers, then acks 200', async () => {
    failing();
    const res = await push(envelopeOf(job, { deliveryAttempt: 3 }));
    expect(res.statusCode).toBe(200);
    const [task] = await emulated.tasks(Q.incoming2);
    expect(task!.httpRequest.body.toString()).toBe(job);
    expect(task!.httpRequest.headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Executor-Tier': '2',
      'X-Executor-Path': 'jobs-tier1=3',
      'X-Executor-Origin': 'jobs-tier1/1234567890',
    });
    expect(task!.name).toBe(`${Q.incoming2}/tasks/${handoffTaskId('jobs-tier1', '1234567890', 'forward')}`);
  });

  it('forwards a binary job as application/x-protobuf bytes', async () => {
    failing();
    const binary = Buffer.from(Request.encode(Request.fromObject({ sourceFile: 'gs://b/f' })).finish());
    expect((await push(envelopeOf(binary, { deliveryAttempt: 3 }))).statusCode).toBe(200);
    const [task] = await emulated.tasks(Q.incoming2);
    expect(task!.httpRequest.body.equals(binary)).toBe(true);
    expect(task!.httpRequest.headers['Content-Type']).toBe('application/x-protobuf');
  });

  it('forwards to NEXT_TOPIC with the message attributes kept and the forwarding facts as x-executor-* attributes', async () => {
    await makeApp({ next: undefined, nextTopic: NEXT });
    failing();
    const res = await push(envelopeOf(job, { deliveryAttempt: 3, attributes: { kind: 'thumbnail', 'x-executor-tier': '1' } }));
    expect(res.statusCode).toBe(200);
    expect(res.json().handoff).toMatchObject({ kind: 'forward', result: 'published', message: { topic: NEXT } });
    const [message] = await topics.drain(NEXT);
    expect(message!.data.toString()).toBe(job);
    expect(message!.attributes).toEqual({ kind: 'thumbnail', 'x-executor-tier': '2', 'x-executor-path': 'jobs-tier1=3', 'x-executor-origin': 'jobs-tier1/1234567890' });
  });

  it('reads an earlier tier from the x-executor-* attributes of a forwarded message', async () => {
    await makeApp({ next: undefined, tier: undefined });
    failing();
    const attributes = { 'x-executor-tier': '2', 'x-executor-path': 'jobs-tier1=3', 'x-executor-origin': 'jobs-tier1/42' };
    const res = await push(envelopeOf(job, { deliveryAttempt: 3, attributes, messageId: '777' }));
    expect(res.statusCode).toBe(200);
    const [task] = await emulated.tasks(Q.notifier);
    expect(JSON.parse(task!.httpRequest.body.toString())).toMatchObject({ outcome: 'failed', tier: 2, attempts: 6, task: { origin: 'jobs-tier1/42' } });
  });

  it('forwards a Cloud Tasks push to NEXT_TOPIC too', async () => {
    await makeApp({ next: undefined, nextTopic: NEXT });
    failing();
    const res = await app.inject({ method: 'POST', url: '/', payload: job, headers: { 'content-type': 'application/json', ...pushHeaders({ retryCount: 2 }) } });
    expect(res.statusCode).toBe(200);
    const [message] = await topics.drain(NEXT);
    expect(message!.attributes).toEqual({ 'x-executor-tier': '2', 'x-executor-path': 'incoming=3', 'x-executor-origin': 'incoming/task-1' });
  });

  it('answers 503 when the forward cannot be published; the redelivery forwards without running the work again', async () => {
    const missing = 'projects/test-project/topics/not-yet-there' as TopicPath;
    await makeApp({ next: undefined, nextTopic: missing });
    failing();
    const res = await push(envelopeOf(job, { deliveryAttempt: 3 }));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ action: 'forward', error: { code: 'HANDOFF_FAILED' } });
    await topics.createTopic(missing);
    const again = await push(envelopeOf(job, { deliveryAttempt: 4 }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ action: 'forward', remembered: true });
    expect(runner.calls).toHaveLength(1);
    expect(await topics.drain(missing)).toHaveLength(1);
  });
});
