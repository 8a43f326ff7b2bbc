/**
 * Outcomes published to NOTIFY_TOPIC, through Fastify's inject() with the real clients against the
 * emulator: the notifier queue is paused (its tasks are read back) and each topic has a pull
 * subscription the test drains. The publish is part of the handoff: 2xx only after it succeeded,
 * 503 when it failed, and the redelivery redoes only what is missing.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import protobuf from 'protobufjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorConfig, TopicPath } from '../../src/config.js';
import { buildApp } from '../../src/executor/app.js';
import { OUTCOME_ATTRIBUTES } from '../../src/executor/apply.js';
import { outcomeEventId, outcomeTaskId } from '../../src/queues/names.js';
import { closePubSubClients } from '../../src/queues/pubsub-client.js';
import { Q, captureLogger, pushHeaders, scriptedRunner, testConfig, type ScriptedRunner } from '../helpers/executor-fixtures.js';
import type { Loose } from '../helpers/defined.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';
import { emulatedTopics, type EmulatedTopics } from '../helpers/emulated-pubsub.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/work.proto', import.meta.url)));
const Request = root.lookupType('morais_protos.SvcWorkRequest');
const Response = root.lookupType('morais_protos.SvcWorkResponse');

const OUTCOMES = 'projects/test-project/topics/outcomes' as TopicPath;
const WEBHOOK = 'https://client.example.test/hook';
const NOW = new Date('2026-11-23T10:00:00.000Z');
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let emulated: EmulatedTasks;
let topics: EmulatedTopics;
let topicSeq = 0;

beforeAll(async () => {
  emulated = await startEmulatedTasks(Object.values(Q));
  topics = emulatedTopics(emulated.host);
  await topics.createTopic(OUTCOMES);
});
afterAll(async () => {
  await closePubSubClients();
  await emulated.close();
});

let app: FastifyInstance;
let runner: ScriptedRunner;

async function makeApp(overrides: Loose<ExecutorConfig> = {}) {
  await app?.close();
  runner = scriptedRunner();
  app = buildApp({
    config: testConfig({ notifyTopic: OUTCOMES, ...overrides }),
    runner,
    tasks: emulated.client,
    publisher: topics.publisher,
    logger: captureLogger().logger,
    clock: () => NOW,
  });
  await app.ready();
}

beforeEach(async () => {
  await emulated.reset();
  await topics.drain(OUTCOMES);
  await makeApp();
});
afterEach(async () => {
  await app.close();
});

function push(body: Buffer | string, headers: Record<string, string> = pushHeaders()) {
  return app.inject({ method: 'POST', url: '/', payload: body, headers: { 'content-type': 'application/json', traceparent: TRACEPARENT, ...headers } });
}

const envelope = (extra: Record<string, unknown> = {}) => JSON.stringify({ payload: { n: 1 }, webhookUrl: WEBHOOK, id: 'job-1', ...extra });

describe('outcomes on NOTIFY_TOPIC', () => {
  it('publishes a success with the webhook notification as the body and filterable attributes, after the notification task', async () => {
    runner.respond(() => ({ kind: 'success', result: { words: 3 } }));
    const res = await push(envelope());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ action: 'notify', handoff: { kind: 'notify-success', result: 'created', message: { topic: OUTCOMES } } });

    const [task] = await emulated.tasks(Q.notifier);
    const [message] = await topics.drain(OUTCOMES);
    expect(message!.data.equals(task!.httpRequest.body)).toBe(true);
    expect(JSON.parse(message!.data.toString())).toMatchObject({ id: 'job-1', outcome: 'succeeded', result: { words: 3 }, tier: 1, attempts: 1 });
    expect(message!.attributes).toEqual({
      outcome: 'succeeded',
      jobId: 'job-1',
      tier: '1',
      attempts: '1',
      format: 'envelope',
      eventId: outcomeEventId('incoming/task-1', 'succeeded'),
      origin: 'incoming/task-1',
      'content-type': 'application/json',
      [OUTCOME_ATTRIBUTES.traceparent]: TRACEPARENT,
    });
    expect(res.json().handoff.message.eventId).toBe(message!.attributes.eventId);
  });

  it('publishes to the topic only when NOTIFIER_QUEUE is unset, even for a job that names a webhook', async () => {
    await makeApp({ notifierQueue: undefined });
    const res = await push(envelope());
    expect(res.statusCode).toBe(200);
    expect(res.json().handoff).toMatchObject({ kind: 'notify-success', result: 'published' });
    expect(await emulated.tasks(Q.notifier)).toEqual([]);
    expect((await topics.drain(OUTCOMES)).map((m) => m.attributes.outcome)).toEqual(['succeeded']);
  });

  it('publishes the outcome of a job that names no webhook (the topic is every outcome, not only notified ones)', async () => {
    const res = await push(JSON.stringify({ payload: { n: 1 }, id: 'quiet' }));
    expect(res.statusCode).toBe(200);
    expect(await emulated.tasks(Q.notifier)).toEqual([]);
    expect((await topics.drain(OUTCOMES)).map((m) => m.attributes.jobId)).toEqual(['quiet']);
  });

  it('publishes the final failure on the last tier with the attempts spent across tiers', async () => {
    await makeApp({ next: undefined });
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'still broken' } }));
    const headers = pushHeaders({ retryCount: 2, extra: { 'X-Executor-Tier': '2', 'X-Executor-Path': 'incoming=3', 'X-Executor-Origin': 'incoming/first' } });
    const res = await push(envelope(), headers);
    expect(res.statusCode).toBe(200);
    const [message] = await topics.drain(OUTCOMES);
    expect(message!.attributes).toMatchObject({ outcome: 'failed', tier: '2', attempts: '6', eventId: outcomeEventId('incoming/first', 'failed'), origin: 'incoming/first' });
    expect(JSON.parse(message!.data.toString())).toMatchObject({ outcome: 'failed', error: { message: 'still broken' } });
  });

  it('publishes a binary SvcWorkResponse for a binary job, as the webhook gets it', async () => {
    const body = Buffer.from(Request.encode(Request.fromObject({ sourceFile: 'gs://b/f', webhookUrl: WEBHOOK, context: { id: 'bin-1' } })).finish());
    runner.respond(() => ({ kind: 'permanent', error: { type: 'Invalid', message: 'no' } }));
    const res = await push(body, { ...pushHeaders(), 'content-type': 'application/json' });
    expect(res.statusCode).toBe(200);
    const [message] = await topics.drain(OUTCOMES);
    expect(message!.attributes).toMatchObject({ outcome: 'failed', format: 'proto-binary', jobId: 'bin-1', 'content-type': 'application/x-protobuf' });
    expect(Response.toObject(Response.decode(message!.data))).toMatchObject({ context: { id: 'bin-1' }, error: { type: 'Invalid', message: 'no' } });
  });

  it('publishes a dead letter as outcome dead-lettered, format undecodable, after the dead-letter task', async () => {
    await makeApp({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dlq.example.test/' });
    const res = await push('{"not": "a job"');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ action: 'dead-letter', handoff: { kind: 'dead-letter', result: 'created', message: { topic: OUTCOMES } } });
    expect(await emulated.tasks(Q.deadLetter)).toHaveLength(1);
    const [message] = await topics.drain(OUTCOMES);
    expect(message!.attributes).toMatchObject({ outcome: 'dead-lettered', format: 'undecodable', origin: 'incoming/task-1' });
    expect(JSON.parse(message!.data.toString())).toMatchObject({ outcome: 'dead-lettered', error: { type: 'UndecodableBody' }, tier: 1 });
  });

  it('publishes nothing for a retry or an ignored job', async () => {
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'again' } }));
    expect((await push(envelope())).statusCode).toBe(409);
    runner.respond(() => ({ kind: 'ignore' }));
    expect((await push(envelope())).statusCode).toBe(200);
    expect(await topics.drain(OUTCOMES)).toEqual([]);
  });
});

describe('the publish is part of the handoff', () => {
  it('answers 503 when the publish fails; the redelivery does not run the work again, finds the notification task by name and publishes once', async () => {
    const missing = `projects/test-project/topics/later-${++topicSeq}` as TopicPath;
    await makeApp({ notifyTopic: missing });
    const first = await push(envelope());
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBeDefined();
    expect(first.json()).toMatchObject({ action: 'notify', error: { code: 'HANDOFF_FAILED' } });
    expect(first.json().error.message).toContain(missing);
    const tasks = await emulated.tasks(Q.notifier);
    expect(tasks.map((t) => t.name)).toEqual([`${Q.notifier}/tasks/${outcomeTaskId('incoming/task-1')}`]);

    await topics.createTopic(missing);
    // Cloud Tasks does not count the 503 as an execution: the same attempt comes again.
    const again = await push(envelope());
    expect(again.statusCode).toBe(200);
    expect(again.json().handoff).toMatchObject({ kind: 'notify-success', result: 'exists', message: { topic: missing } });
    expect(again.json().remembered).toBe(true);
    expect(runner.calls).toHaveLength(1);
    expect(await emulated.tasks(Q.notifier)).toHaveLength(1);
    const messages = await topics.drain(missing);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.attributes.eventId).toBe(outcomeEventId('incoming/task-1', 'succeeded'));
  });

  it('publishes again with the same eventId when a push is delivered twice, so subscribers can deduplicate', async () => {
    expect((await push(envelope())).statusCode).toBe(200);
    expect((await push(envelope())).statusCode).toBe(200);
    const messages = await topics.drain(OUTCOMES);
    expect(messages).toHaveLength(2);
    expect(messages[0]!.messageId).not.toBe(messages[1]!.messageId);
    expect(new Set(messages.map((m) => m.attributes.eventId)).size).toBe(1);
    expect(await emulated.tasks(Q.notifier)).toHaveLength(1);
  });

  it('gives different jobs and different outcomes of one job different eventIds', async () => {
    await push(envelope(), pushHeaders({ task: 'a' }));
    await push(envelope(), pushHeaders({ task: 'b' }));
    runner.respond(() => ({ kind: 'permanent', error: { type: 'E', message: 'x' } }));
    await push(envelope(), pushHeaders({ task: 'a' }));
    const ids = (await topics.drain(OUTCOMES)).map((m) => m.attributes.eventId);
    expect(new Set(ids).size).toBe(3);
  });

  it('refuses to build an app with NOTIFY_TOPIC but no publisher', () => {
    expect(() => buildApp({ config: testConfig({ notifyTopic: OUTCOMES }), runner, tasks: emulated.client, logger: captureLogger().logger })).toThrow(/publisher/);
  });
});
