// Pins the Pub/Sub engine's delivery rules on a virtual clock (no wall-clock timing):
// - ReceivedMessage.delivery_attempt: "1 + (number of NACKs) + (number of ack_deadline exceeds)";
//   "If a DeadLetterPolicy is not set on the subscription, this will be 0."
// - DeadLetterPolicy.max_delivery_attempts: 5 to 100; forwarded messages carry the
//   CloudPubSubDeadLetterSource* attributes (cloud.google.com/pubsub/docs/handling-failures).
// - RetryPolicy: exponential backoff between minimum_backoff and maximum_backoff; without one,
//   redelivery is immediate.
// - Ordering keys: a nacked or expired message is redelivered with every later message of its key.
import { describe, expect, it } from 'vitest';
import { makeLogger } from '../../../src/log.js';
import type { PushRequest, PushResult } from '../../../src/emulator/dispatch.js';
import { OidcSigner } from '../../../src/emulator/oidc.js';
import { ManualClock } from '../../../src/emulator/pubsub/clock.js';
import { backoffMs, PubSubEngine, type StreamSettings } from '../../../src/emulator/pubsub/engine.js';
import type { Delivery, SubscriptionInput } from '../../../src/emulator/pubsub/model.js';

const P = 'projects/p';
const T = `${P}/topics/jobs`;
const S = `${P}/subscriptions/jobs-sub`;
const signer = new OidcSigner('http://issuer.test', 'http://issuer.test/jwks');

function setup(sub: Partial<SubscriptionInput> = {}, push?: (req: PushRequest) => Promise<PushResult>) {
  const clock = new ManualClock();
  const engine = new PubSubEngine({
    clock,
    signer,
    push: push ?? (() => Promise.reject(new Error('no push expected'))),
    logger: makeLogger({ level: 'silent' }),
  });
  engine.createTopic({ name: T });
  engine.createTopic({ name: `${P}/topics/dead` });
  engine.createSubscription({ name: S, topic: T, ...sub });
  return { clock, engine };
}

/** A stream that records what it receives. */
function stream(engine: PubSubEngine, settings: Partial<StreamSettings> = {}) {
  const got: Delivery[] = [];
  const handle = engine.openStream(S, { ackDeadlineSeconds: 10, maxOutstandingMessages: 0, maxOutstandingBytes: 0, ...settings }, (d) => got.push(...d), () => {});
  return { got, handle };
}

const text = (d: Delivery): string => d.message.data.toString();

describe('ack deadlines', () => {
  it('redelivers a message whose ack deadline passes, and not before', () => {
    const { clock, engine } = setup({ ackDeadlineSeconds: 30 });
    engine.publish(T, [{ data: Buffer.from('a') }]);
    const s = stream(engine, { ackDeadlineSeconds: 30 });
    expect(s.got.map(text)).toEqual(['a']);
    clock.advance(29_999);
    expect(s.got).toHaveLength(1);
    clock.advance(1);
    expect(s.got.map(text)).toEqual(['a', 'a']);
    expect(engine.stats().expired).toBe(1);
  });

  it('extends a lease with ModifyAckDeadline and redelivers at once on a 0 deadline (nack)', () => {
    const { clock, engine } = setup();
    engine.publish(T, [{ data: Buffer.from('a') }]);
    const s = stream(engine);
    engine.modifyAckDeadline(S, [s.got[0]!.ackId], 60);
    clock.advance(59_000);
    expect(s.got).toHaveLength(1);
    engine.modifyAckDeadline(S, [s.got[0]!.ackId], 0);
    expect(s.got).toHaveLength(2);
  });

  it('ignores an ack with a stale ack id once the message was redelivered', () => {
    const { clock, engine } = setup();
    engine.publish(T, [{ data: Buffer.from('a') }]);
    const s = stream(engine);
    clock.advance(10_000);
    engine.acknowledge(S, [s.got[0]!.ackId]);
    expect(engine.stats().acked).toBe(0);
    engine.acknowledge(S, [s.got[1]!.ackId]);
    expect(engine.stats().acked).toBe(1);
    clock.advance(60_000);
    expect(s.got).toHaveLength(2);
  });

  it('rejects a malformed ack id with INVALID_ARGUMENT', () => {
    const { engine } = setup();
    expect(() => engine.acknowledge(S, ['not-an-ack-id'])).toThrow(expect.objectContaining({ status: 'INVALID_ARGUMENT' }));
  });
});

describe('retry policy', () => {
  it('computes backoff doubling from the minimum and capped at the maximum', () => {
    const sub = { retryPolicy: { minimumBackoffMs: 1000, maximumBackoffMs: 5000 } };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(sub, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs({}, 3)).toBe(0);
  });

  it('holds a nacked message back for the backoff, then redelivers it', () => {
    const { clock, engine } = setup({ retryPolicy: { minimumBackoffMs: 2000, maximumBackoffMs: 8000 } });
    engine.publish(T, [{ data: Buffer.from('a') }]);
    const s = stream(engine);
    engine.modifyAckDeadline(S, [s.got[0]!.ackId], 0);
    clock.advance(1999);
    expect(s.got).toHaveLength(1);
    clock.advance(1);
    expect(s.got).toHaveLength(2);
    engine.modifyAckDeadline(S, [s.got[1]!.ackId], 0);
    clock.advance(3999);
    expect(s.got).toHaveLength(2);
    clock.advance(1);
    expect(s.got).toHaveLength(3);
  });
});

describe('dead-letter policy', () => {
  it('counts deliveryAttempt only when a dead-letter policy is set', () => {
    const { engine } = setup();
    engine.publish(T, [{ data: Buffer.from('a') }]);
    const s = stream(engine);
    expect(s.got[0]!.deliveryAttempt).toBe(0);
  });

  it('forwards a message after maxDeliveryAttempts with the CloudPubSubDeadLetterSource* attributes', () => {
    const { engine } = setup({ deadLetterPolicy: { deadLetterTopic: `${P}/topics/dead`, maxDeliveryAttempts: 5 } });
    engine.createSubscription({ name: `${P}/subscriptions/dead-sub`, topic: `${P}/topics/dead` });
    engine.publish(T, [{ data: Buffer.from('poison'), attributes: { k: 'v' } }]);
    const s = stream(engine);
    for (let i = 0; i < 5; i++) engine.modifyAckDeadline(S, [s.got[i]!.ackId], 0);
    expect(s.got.map((d) => d.deliveryAttempt)).toEqual([1, 2, 3, 4, 5]);
    expect(engine.stats().deadLettered).toBe(1);
    return engine.pull(`${P}/subscriptions/dead-sub`, 10, true).then((dead) => {
      expect(dead).toHaveLength(1);
      expect(text(dead[0]!)).toBe('poison');
      expect(dead[0]!.message.attributes).toEqual({
        k: 'v',
        CloudPubSubDeadLetterSourceDeliveryCount: '5',
        CloudPubSubDeadLetterSourceSubscription: 'jobs-sub',
        CloudPubSubDeadLetterSourceSubscriptionProject: 'p',
        CloudPubSubDeadLetterSourceTopicPublishTime: new Date(s.got[0]!.message.publishTimeMs).toISOString(),
      });
    });
  });
});

describe('ordering keys', () => {
  it('delivers a key in publish order and redelivers the nacked message with every later one of its key', () => {
    const { engine } = setup({ enableMessageOrdering: true });
    engine.publish(T, ['1', '2', '3'].map((d) => ({ data: Buffer.from(d), orderingKey: 'k' })));
    engine.publish(T, [{ data: Buffer.from('x'), orderingKey: 'other' }]);
    const s = stream(engine);
    expect(s.got.map(text)).toEqual(['1', '2', '3', 'x']);
    engine.acknowledge(S, [s.got[0]!.ackId]);
    engine.modifyAckDeadline(S, [s.got[1]!.ackId], 0);
    expect(s.got.slice(4).map(text)).toEqual(['2', '3']);
    // The ack id of '3' from the first round no longer counts.
    engine.acknowledge(S, [s.got[2]!.ackId]);
    expect(engine.stats().acked).toBe(1);
  });

  it('holds the whole key back during the retry backoff', () => {
    const { clock, engine } = setup({ enableMessageOrdering: true, retryPolicy: { minimumBackoffMs: 1000, maximumBackoffMs: 1000 } });
    engine.publish(T, ['1', '2'].map((d) => ({ data: Buffer.from(d), orderingKey: 'k' })));
    const s = stream(engine);
    engine.modifyAckDeadline(S, [s.got[0]!.ackId], 0);
    engine.publish(T, [{ data: Buffer.from('3'), orderingKey: 'k' }]);
    expect(s.got).toHaveLength(2);
    clock.advance(1000);
    expect(s.got.slice(2).map(text)).toEqual(['1', '2', '3']);
  });
});

describe('message retention', () => {
  it('drops unacked messages older than messageRetentionDuration instead of delivering them', () => {
    const { clock, engine } = setup({ messageRetentionDurationMs: 600_000, enableMessageOrdering: true });
    engine.publish(T, [{ data: Buffer.from('old') }, { data: Buffer.from('old-ordered'), orderingKey: 'k' }]);
    clock.advance(600_001);
    engine.publish(T, [{ data: Buffer.from('new') }, { data: Buffer.from('new-ordered'), orderingKey: 'k' }]);
    const s = stream(engine);
    expect(s.got.map(text).sort()).toEqual(['new', 'new-ordered']);
    expect(engine.stats().retentionDropped).toBe(2);
  });
});

describe('flow control', () => {
  it('sends no more than maxOutstandingMessages until some are acked', () => {
    const { engine } = setup();
    engine.publish(T, ['a', 'b', 'c'].map((d) => ({ data: Buffer.from(d) })));
    const s = stream(engine, { maxOutstandingMessages: 2 });
    expect(s.got.map(text)).toEqual(['a', 'b']);
    engine.acknowledge(S, [s.got[0]!.ackId]);
    expect(s.got.map(text)).toEqual(['a', 'b', 'c']);
  });
});

describe('push', () => {
  it('acks on 102, 200, 201, 202 and 204 and nacks anything else', async () => {
    for (const [status, acked] of [[102, true], [200, true], [201, true], [202, true], [204, true], [400, false], [404, false], [429, false], [500, false], [503, false]] as const) {
      const { engine } = setup({ pushConfig: { pushEndpoint: 'http://receiver.test/push', attributes: {} } }, () =>
        Promise.resolve({ kind: 'response', status }),
      );
      engine.publish(T, [{ data: Buffer.from('a') }]);
      await new Promise((r) => setImmediate(r));
      expect({ status, acked: engine.stats().acked === 1 }).toEqual({ status, acked });
      engine.close();
    }
  });

  it.each([
    ['no answer within the ack deadline', { kind: 'timeout', message: 'no response' }],
    ['a connection failure', { kind: 'unreachable', message: 'ECONNREFUSED' }],
  ] as const)('nacks a push that gets %s', async (_, result) => {
    const { engine } = setup({ pushConfig: { pushEndpoint: 'http://receiver.test/push', attributes: {} } }, () => Promise.resolve(result));
    engine.publish(T, [{ data: Buffer.from('a') }]);
    await new Promise((r) => setImmediate(r));
    expect(engine.stats()).toMatchObject({ acked: 0, nacked: 1 });
    engine.close();
  });

  it('gives the push request the ack deadline as its timeout and leaves attributes unfit for headers out of the unwrapped form', async () => {
    const reqs: PushRequest[] = [];
    const { engine } = setup(
      { ackDeadlineSeconds: 42, pushConfig: { pushEndpoint: 'http://receiver.test/push', attributes: {}, noWrapper: { writeMetadata: true } } },
      (req) => {
        reqs.push(req);
        return Promise.resolve({ kind: 'response', status: 204 });
      },
    );
    engine.publish(T, [{ data: Buffer.from('raw'), attributes: { good: 'yes', 'bad name': 'x', crlf: 'a\r\nb' }, orderingKey: 'k' }]);
    await new Promise((r) => setImmediate(r));
    expect(reqs[0]!.timeoutMs).toBe(42_000);
    expect(reqs[0]!.body!.toString()).toBe('raw');
    expect(reqs[0]!.headers).toMatchObject({ good: 'yes', 'x-goog-pubsub-ordering-key': 'k', 'x-goog-pubsub-subscription-name': S });
    expect(Object.keys(reqs[0]!.headers)).not.toContain('bad name');
    expect(Object.keys(reqs[0]!.headers)).not.toContain('crlf');
  });

  it('backs off the whole subscription after a nack', async () => {
    const calls: string[] = [];
    const answers = [500, 200, 200, 200];
    const { clock, engine } = setup({ pushConfig: { pushEndpoint: 'http://receiver.test/push', attributes: {} } }, (req) => {
      calls.push((JSON.parse(req.body!.toString()) as { message: { data: string } }).message.data);
      return Promise.resolve({ kind: 'response', status: answers[calls.length - 1] ?? 200 });
    });
    engine.publish(T, [{ data: Buffer.from('a') }]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    engine.publish(T, [{ data: Buffer.from('b') }]);
    await new Promise((r) => setImmediate(r));
    // Neither the nacked message nor the new one goes out during the backoff.
    expect(calls).toHaveLength(1);
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(3);
  });
});

describe('publish limits', () => {
  it('rejects more than 1000 messages, empty messages and reserved attribute keys', () => {
    const { engine } = setup();
    const many = Array.from({ length: 1001 }, () => ({ data: Buffer.from('a') }));
    expect(() => engine.publish(T, many)).toThrow(/maximum value is 1000/);
    expect(() => engine.publish(T, [{}])).toThrow(/empty/);
    expect(() => engine.publish(T, [{ data: Buffer.from('a'), attributes: { googKey: 'x' } }])).toThrow(/reserved/);
    // The client libraries' own prefix is accepted, as production does (@google-cloud/pubsub sends googclient_traceparent).
    expect(engine.publish(T, [{ data: Buffer.from('a'), attributes: { googclient_traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }])).toHaveLength(1);
    expect(() => engine.publish(T, [{ data: Buffer.alloc(10_000_001) }])).toThrow(/maximum message size/);
    // Only the googclient_ message got through.
    expect(engine.stats().published).toBe(1);
  });
});
