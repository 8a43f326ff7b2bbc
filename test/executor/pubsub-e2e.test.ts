/**
 * Pub/Sub pushes end to end: the emulator's push subscriptions (OIDC tokens signed by the emulator,
 * a dead-letter policy, short retry backoffs) deliver to a real executor tier listening on
 * loopback, which verifies the tokens against the emulator's JWKS exactly as it does Cloud Tasks'
 * and publishes outcomes to a results topic. Also the startup check of a subscription's
 * dead-letter policy (checkSubscriptionDrift) against subscriptions configured right and wrong.
 */
import type { v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { checkSubscriptionDrift } from '../../src/executor/drift.js';
import { startExecutor, type RunningExecutor } from '../../src/executor/index.js';
import { closePubSubClients, makePublisherClient, makeSubscriberClient } from '../../src/queues/pubsub-client.js';
import { captureLogger, scriptedRunner, type ScriptedRunner } from '../helpers/executor-fixtures.js';
import { emulatedTopics, type EmulatedTopics } from '../helpers/emulated-pubsub.js';

const PROJECT = 'test-project';
const PUSHER = 'pusher@test-project.iam.gserviceaccount.com';
const topic = (id: string): string => `projects/${PROJECT}/topics/${id}`;
const subscription = (id: string): string => `projects/${PROJECT}/subscriptions/${id}`;
const RETRY = { minimumBackoff: { nanos: 50_000_000 }, maximumBackoff: { nanos: 100_000_000 } };

let emulator: Emulator;
let executor: RunningExecutor;
let runner: ScriptedRunner;
let topics: EmulatedTopics;
let publisher: v1.PublisherClient;
let subscriber: v1.SubscriberClient;

/** Waits (polling every 20 ms, at most 20 s) until `check` resolves true. */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A topic with a push subscription to the executor (and, with `deadLetter`, a dead-letter topic kept by a pull subscription). */
async function pushTopic(id: string, options: { oidcEmail?: string; deadLetter?: number }): Promise<void> {
  await publisher.createTopic({ name: topic(id) });
  if (options.deadLetter !== undefined) await topics.createTopic(topic(`${id}-dead`));
  await subscriber.createSubscription({
    name: subscription(id),
    topic: topic(id),
    pushConfig: { pushEndpoint: `${executor.url}/`, ...(options.oidcEmail !== undefined ? { oidcToken: { serviceAccountEmail: options.oidcEmail } } : {}) },
    retryPolicy: RETRY,
    ...(options.deadLetter !== undefined ? { deadLetterPolicy: { deadLetterTopic: topic(`${id}-dead`), maxDeliveryAttempts: options.deadLetter } } : {}),
  });
}

const publish = (id: string, job: unknown, attributes: Record<string, string> = {}) =>
  publisher.publish({ topic: topic(id), messages: [{ data: Buffer.from(JSON.stringify(job)), attributes }] });

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  publisher = makePublisherClient(emulator.address);
  subscriber = makeSubscriberClient(emulator.address);
  topics = emulatedTopics(emulator.address);
  await topics.createTopic(topic('results'));
  runner = scriptedRunner();
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    GOOGLE_CLOUD_PROJECT: PROJECT,
    MAX_ATTEMPTS: '3',
    TIER: '1',
    NOTIFY_TOPIC: 'results',
    CLOUD_TASKS_EMULATOR_HOST: emulator.address,
    AUTH_ISSUER: emulator.issuer,
    AUTH_JWKS_URL: emulator.jwksUrl,
    AUTH_ALLOWED_EMAILS: PUSHER,
    WORKER_MODULE: 'demo',
    LOG_LEVEL: 'silent',
  });
  executor = await startExecutor(config, { runner, logger: captureLogger('silent').logger });
});
afterAll(async () => {
  await executor?.close();
  await closePubSubClients();
  await emulator?.close();
});

describe('Pub/Sub pushes with OIDC', () => {
  it('accepts the emulator-signed token of an allowed service account, runs the job and publishes its outcome', async () => {
    await pushTopic('jobs-ok', { oidcEmail: PUSHER, deadLetter: 5 });
    runner.respond((job) => ((job.payload as { n: number }).n === 1 ? { kind: 'success', result: { done: true } } : { kind: 'ignore' }));
    await publish('jobs-ok', { payload: { n: 1 }, id: 'ok-1' }, { kind: 'demo' });
    let results: Awaited<ReturnType<EmulatedTopics['drain']>> = [];
    await until(async () => (results = [...results, ...(await topics.drain(topic('results')))]).length >= 1, 'the outcome');
    expect(results[0]!.attributes).toMatchObject({ outcome: 'succeeded', jobId: 'ok-1', tier: '1', attempts: '1', format: 'envelope' });
    const call = runner.calls.find((c) => c.ctx.pubsub?.subscription === subscription('jobs-ok'))!;
    expect(call.ctx.pubsub).toMatchObject({ attributes: { kind: 'demo' }, deliveryAttempt: 1 });
  });

  it('refuses the token of a service account not on the allow-list (403), so the message is nacked until Pub/Sub dead-letters it', async () => {
    await pushTopic('jobs-stranger', { oidcEmail: 'stranger@elsewhere.iam.gserviceaccount.com', deadLetter: 5 });
    const before = runner.calls.length;
    await publish('jobs-stranger', { payload: { n: 2 }, id: 'stranger-1' });
    let dead: Awaited<ReturnType<EmulatedTopics['drain']>> = [];
    await until(async () => (dead = [...dead, ...(await topics.drain(topic('jobs-stranger-dead')))]).length >= 1, 'the dead letter');
    expect(dead[0]!.attributes).toMatchObject({ CloudPubSubDeadLetterSourceDeliveryCount: '5' });
    expect(runner.calls.length).toBe(before);
    const rejections = await executor.metrics.authRejections.get();
    expect(rejections.values.find((v) => v.labels.code === 'AUTH_EMAIL_NOT_ALLOWED')?.value).toBe(5);
  });

  it('answers 401 to a push subscription without oidcToken', async () => {
    await pushTopic('jobs-no-token', { deadLetter: 5 });
    await publish('jobs-no-token', { payload: { n: 3 } });
    await until(async () => ((await executor.metrics.authRejections.get()).values.find((v) => v.labels.code === 'AUTH_MISSING')?.value ?? 0) >= 1, 'a refused push');
  });

  it('counts deliveryAttempt against MAX_ATTEMPTS: nacks twice, then publishes the final failure and acks', async () => {
    await pushTopic('jobs-flaky', { oidcEmail: PUSHER, deadLetter: 10 });
    runner.respond(() => ({ kind: 'retryable', error: { type: 'Error', message: 'flaky' } }));
    await publish('jobs-flaky', { payload: { n: 4 }, id: 'flaky-1' });
    let results: Awaited<ReturnType<EmulatedTopics['drain']>> = [];
    await until(async () => (results = [...results, ...(await topics.drain(topic('results')))]).some((m) => m.attributes.jobId === 'flaky-1'), 'the failure');
    const failure = results.find((m) => m.attributes.jobId === 'flaky-1')!;
    expect(failure.attributes).toMatchObject({ outcome: 'failed', attempts: '3' });
    const attempts = runner.calls.filter((c) => c.ctx.pubsub?.subscription === subscription('jobs-flaky')).map((c) => c.ctx.attempt);
    expect(attempts).toEqual([1, 2, 3]);
    // Acked on the third delivery: nothing was dead-lettered.
    await emulator.waitForIdle({ timeoutMs: 5000 }).catch(() => undefined);
    expect(await topics.drain(topic('jobs-flaky-dead'))).toEqual([]);
  });
});

describe('checkSubscriptionDrift against the emulator', () => {
  beforeAll(async () => {
    await publisher.createTopic({ name: topic('drift') });
    await publisher.createTopic({ name: topic('drift-dead') });
    await subscriber.createSubscription({ name: subscription('drift-none'), topic: topic('drift') });
    await subscriber.createSubscription({ name: subscription('drift-five'), topic: topic('drift'), deadLetterPolicy: { deadLetterTopic: topic('drift-dead'), maxDeliveryAttempts: 5 } });
    await subscriber.createSubscription({ name: subscription('drift-ten'), topic: topic('drift'), deadLetterPolicy: { deadLetterTopic: topic('drift-dead'), maxDeliveryAttempts: 10 } });
  });

  it('logs an error saying the budget cannot be counted for a subscription without a dead-letter policy', async () => {
    const { logger, lines } = captureLogger();
    const result = await checkSubscriptionDrift({ client: subscriber, subscription: subscription('drift-none'), maxAttempts: 3, logger });
    expect(result).toEqual({ status: 'no-dead-letter-policy', subscription: subscription('drift-none'), maxAttempts: 3 });
    const [error] = lines.filter((l) => l.severity === 'ERROR');
    expect(error).toMatchObject({ code: 'SUBSCRIPTION_NO_DEAD_LETTER_POLICY' });
    expect(error!.message).toMatch(/budget MAX_ATTEMPTS=3 cannot be counted/);
  });

  it('logs an error when maxDeliveryAttempts is not greater than MAX_ATTEMPTS', async () => {
    const { logger, lines } = captureLogger();
    const result = await checkSubscriptionDrift({ client: subscriber, subscription: subscription('drift-five'), maxAttempts: 5, logger });
    expect(result).toMatchObject({ status: 'too-few-attempts', maxDeliveryAttempts: 5 });
    const [error] = lines.filter((l) => l.severity === 'ERROR');
    expect(error).toMatchObject({ code: 'SUBSCRIPTION_MAX_DELIVERY_ATTEMPTS_TOO_LOW', maxDeliveryAttempts: 5, maxAttempts: 5 });
    expect(error!.message).toMatch(/gcloud pubsub subscriptions update drift-five --project=test-project/);
  });

  it('accepts a policy with more deliveries than the budget, silently', async () => {
    const { logger, lines } = captureLogger();
    expect(await checkSubscriptionDrift({ client: subscriber, subscription: subscription('drift-ten'), maxAttempts: 5, logger })).toMatchObject({ status: 'ok', maxDeliveryAttempts: 10 });
    expect(lines.filter((l) => l.severity === 'ERROR' || l.severity === 'WARNING')).toEqual([]);
  });

  it('warns, without throwing, when the subscription cannot be read', async () => {
    const { logger, lines } = captureLogger();
    const result = await checkSubscriptionDrift({ client: subscriber, subscription: subscription('drift-missing'), maxAttempts: 5, logger });
    expect(result).toMatchObject({ status: 'unreadable', grpcCode: 5 });
    expect(lines.filter((l) => l.code === 'SUBSCRIPTION_DRIFT_UNCHECKED')).toHaveLength(1);
  });
});
