// The Pub/Sub side of the emulator driven by the official @google-cloud/pubsub client, unchanged:
// PUBSUB_EMULATOR_HOST is all it is given. Semantics pinned (production's documentation):
// - StreamingPull through subscription.on('message'); ack removes, nack redelivers.
// - Ordering keys: "messages that have the same ordering key are delivered in the order published".
// - RetryPolicy: nacked messages wait minimum_backoff before redelivery.
// - DeadLetterPolicy: after max_delivery_attempts the message goes to the dead-letter topic with the
//   CloudPubSubDeadLetterSource* attributes; deliveryAttempt counts 1, 2, … only with the policy.
// - Push: ack on 102, 200, 201, 202, 204; nack otherwise; OIDC tokens verifiable against the JWKS;
//   the wrapped envelope, or with noWrapper the raw data and x-goog-pubsub-* headers.
// Wall-clock waits are lower bounds only (a backoff never ends early); no speed is asserted.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { PubSub, v1, type Message } from '@google-cloud/pubsub';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../src/emulator/index.js';
import { PROJECT, startPubSubEmulator, startReceiver, until } from './helpers.js';

let emulator: Emulator;
let pubsub: PubSub;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const answers = new Map<string, (n: number) => number>();
let seq = 0;
const unique = (prefix: string): string => `${prefix}-${++seq}`;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  pubsub = new PubSub({ projectId: PROJECT });
  receiver = await startReceiver((path, n) => answers.get(path)?.(n) ?? 200);
});
afterAll(async () => {
  await subscriber?.close();
  await pubsub?.close();
  await receiver?.close();
  await emulator?.close();
});

/** Collects messages of a subscription through on('message'), handling each with `onMessage`. */
function listen(subName: string, onMessage: (m: Message, all: Message[]) => void, options = {}) {
  const got: Message[] = [];
  const sub = pubsub.subscription(subName, options);
  sub.on('message', (m: Message) => {
    got.push(m);
    onMessage(m, got);
  });
  sub.on('error', () => {});
  return { got, close: () => sub.close() };
}

describe('publish and on("message")', () => {
  it('delivers a published message with its data, attributes, id and publish time, and forgets it once acked', async () => {
    const [topic] = await pubsub.createTopic(unique('basic'));
    const [sub] = await topic.createSubscription(unique('basic-sub'));
    const before = emulator.pubsubStats().acked;
    const id = await topic.publishMessage({ data: Buffer.from('hello'), attributes: { kind: 'greeting' } });
    const l = listen(sub.name, (m) => m.ack());
    await until(() => l.got.length === 1 && emulator.pubsubStats().acked === before + 1, 'the ack');
    const m = l.got[0]!;
    expect(m.id).toBe(id);
    expect(m.data.toString()).toBe('hello');
    expect(m.attributes).toEqual({ kind: 'greeting' });
    expect(m.publishTime.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await l.close();
    const [pulled] = await (await subscriberClient()).pull({ subscription: sub.name, maxMessages: 10, returnImmediately: true });
    expect(pulled.receivedMessages ?? []).toEqual([]);
  });

  it('redelivers a nacked message', async () => {
    const [topic] = await pubsub.createTopic(unique('nack'));
    const [sub] = await topic.createSubscription(unique('nack-sub'));
    await topic.publishMessage({ data: Buffer.from('again') });
    const l = listen(sub.name, (m, all) => (all.length === 1 ? m.nack() : m.ack()));
    await until(() => l.got.length >= 2, 'the redelivery');
    expect(l.got[1]!.id).toBe(l.got[0]!.id);
    expect(l.got[0]!.deliveryAttempt).toBe(0);
    await l.close();
  });

  it('keeps the publish order of each ordering key', async () => {
    const [topic] = await pubsub.createTopic(unique('ordered'));
    const [sub] = await topic.createSubscription(unique('ordered-sub'), { enableMessageOrdering: true });
    const publisher = pubsub.topic(topic.name, { messageOrdering: true });
    const sent: Record<string, string[]> = { a: [], b: [] };
    const publishes: Promise<string>[] = [];
    for (let i = 0; i < 30; i++) {
      const key = i % 3 === 0 ? 'b' : 'a';
      sent[key]!.push(String(i));
      publishes.push(publisher.publishMessage({ data: Buffer.from(String(i)), orderingKey: key }));
    }
    await Promise.all(publishes);
    const l = listen(sub.name, (m) => m.ack());
    await until(() => l.got.length >= 30, 'all ordered messages');
    for (const key of ['a', 'b']) {
      expect(l.got.filter((m) => m.orderingKey === key).map((m) => m.data.toString())).toEqual(sent[key]);
    }
    await l.close();
  });
});

let subscriber: v1.SubscriberClient | undefined;
/** The generated v1 subscriber client, made once. */
async function subscriberClient(): Promise<v1.SubscriberClient> {
  subscriber ??= new v1.SubscriberClient(await v1Options());
  return subscriber;
}

/** Options for the generated v1 clients, taken from the PubSub object (so from PUBSUB_EMULATOR_HOST too). */
async function v1Options(): Promise<ConstructorParameters<typeof v1.SubscriberClient>[0]> {
  const config = await pubsub.getClientConfig();
  return { ...config, port: Number(config.port) };
}

describe('filters', () => {
  it('delivers only the messages the filter matches', async () => {
    const [topic] = await pubsub.createTopic(unique('filter'));
    const [sub] = await topic.createSubscription(unique('filter-sub'), { filter: 'attributes.kind = "wanted" AND NOT attributes:skip' });
    await topic.publishMessage({ data: Buffer.from('1'), attributes: { kind: 'wanted' } });
    await topic.publishMessage({ data: Buffer.from('2'), attributes: { kind: 'other' } });
    await topic.publishMessage({ data: Buffer.from('3'), attributes: { kind: 'wanted', skip: 'y' } });
    await topic.publishMessage({ data: Buffer.from('4'), attributes: { kind: 'wanted' } });
    const l = listen(sub.name, (m) => m.ack());
    await until(() => l.got.length >= 2, 'the matching messages');
    expect(l.got.map((m) => m.data.toString())).toEqual(['1', '4']);
    const [metadata] = await sub.getMetadata();
    expect(metadata.filter).toBe('attributes.kind = "wanted" AND NOT attributes:skip');
    await l.close();
  });
});

describe('ack deadlines and retry policy', () => {
  it('redelivers a pulled message once its ack deadline passes, not before', async () => {
    const [topic] = await pubsub.createTopic(unique('expiry'));
    const [sub] = await topic.createSubscription(unique('expiry-sub'));
    await topic.publishMessage({ data: Buffer.from('lease') });
    const client = await subscriberClient();
    const [first] = await client.pull({ subscription: sub.name, maxMessages: 1 });
    const ackId = first.receivedMessages![0]!.ackId!;
    await client.modifyAckDeadline({ subscription: sub.name, ackIds: [ackId], ackDeadlineSeconds: 1 });
    const shortened = Date.now();
    const [none] = await client.pull({ subscription: sub.name, maxMessages: 1, returnImmediately: true });
    expect(none.receivedMessages ?? []).toHaveLength(0);
    const [again] = await client.pull({ subscription: sub.name, maxMessages: 1 });
    expect(Date.now() - shortened).toBeGreaterThanOrEqual(950);
    expect(again.receivedMessages![0]!.message!.messageId).toBe(first.receivedMessages![0]!.message!.messageId);
    // The first lease is over: acking with its id changes nothing, the new id acks.
    await client.acknowledge({ subscription: sub.name, ackIds: [again.receivedMessages![0]!.ackId!] });
  });

  it('waits minimumBackoff before redelivering a nacked message', async () => {
    const [topic] = await pubsub.createTopic(unique('retry'));
    const [sub] = await topic.createSubscription(unique('retry-sub'), {
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 5 } },
    });
    await topic.publishMessage({ data: Buffer.from('later') });
    const times: number[] = [];
    const l = listen(sub.name, (m, all) => {
      times.push(Date.now());
      if (all.length === 1) m.nack();
      else m.ack();
    });
    await until(() => l.got.length >= 2, 'the redelivery after the backoff');
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    const [metadata] = await sub.getMetadata();
    expect(metadata.retryPolicy?.minimumBackoff?.seconds).toBe('1');
    await l.close();
  });
});

describe('dead-letter policy', () => {
  it('counts deliveryAttempt and forwards the message after maxDeliveryAttempts with the documented attributes', async () => {
    const [dead] = await pubsub.createTopic(unique('dead'));
    const [deadSub] = await dead.createSubscription(unique('dead-sub'));
    const [topic] = await pubsub.createTopic(unique('poison'));
    const [sub] = await topic.createSubscription(unique('poison-sub'), { deadLetterPolicy: { deadLetterTopic: dead.name, maxDeliveryAttempts: 5 } });
    await topic.publishMessage({ data: Buffer.from('poison'), attributes: { origin: 'test' } });
    const l = listen(sub.name, (m) => m.nack());
    const d = listen(deadSub.name, (m) => m.ack());
    await until(() => d.got.length === 1, 'the dead-lettered message');
    expect(l.got.map((m) => m.deliveryAttempt)).toEqual([1, 2, 3, 4, 5]);
    const forwarded = d.got[0]!;
    expect(forwarded.data.toString()).toBe('poison');
    expect(forwarded.attributes).toEqual({
      origin: 'test',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
      CloudPubSubDeadLetterSourceSubscription: sub.name.split('/').pop(),
      CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT,
      CloudPubSubDeadLetterSourceTopicPublishTime: new Date(l.got[0]!.publishTime.getTime()).toISOString(),
    });
    await Promise.all([l.close(), d.close()]);
  });
});

/** A receiver that answers 102 Processing and then, a moment later, 500: production acks on the 102. */
async function startInterimReceiver(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    req.resume();
    res.writeProcessing();
    setTimeout(() => res.writeHead(500).end(), 50);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => count,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('push subscriptions', () => {
  const SA = 'pusher@test-project.iam.gserviceaccount.com';

  async function certs(): Promise<Record<string, string>> {
    const jwks = (await (await fetch(emulator.jwksUrl)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
    return Object.fromEntries(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()]));
  }

  it('POSTs the wrapped envelope with an OIDC token google-auth-library verifies (aud defaults to the endpoint)', async () => {
    const path = `/push/${unique('oidc')}`;
    const endpoint = `${receiver.url}${path}`;
    const [topic] = await pubsub.createTopic(unique('push'));
    const [sub] = await topic.createSubscription(unique('push-sub'), {
      pushConfig: { pushEndpoint: endpoint, oidcToken: { serviceAccountEmail: SA } },
      deadLetterPolicy: { deadLetterTopic: topic.name, maxDeliveryAttempts: 10 },
    });
    const id = await topic.publishMessage({ data: Buffer.from('pushed'), attributes: { a: '1' }, orderingKey: '' });
    await until(() => receiver.requests.some((r) => r.path === path), 'the push');
    const req = receiver.requests.find((r) => r.path === path)!;
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body.toString()) as Record<string, unknown>;
    expect(body).toEqual({
      message: {
        data: Buffer.from('pushed').toString('base64'),
        attributes: { a: '1' },
        messageId: id,
        message_id: id,
        publishTime: expect.any(String),
        publish_time: expect.any(String),
      },
      subscription: sub.name,
      deliveryAttempt: 1,
    });
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization))![1]!;
    const ticket = await new OAuth2Client().verifySignedJwtWithCertsAsync(token, await certs(), endpoint, [emulator.issuer]);
    expect(ticket.getPayload()).toMatchObject({ email: SA, email_verified: true, aud: endpoint, iss: emulator.issuer });
  });

  it('sends the raw data and x-goog-pubsub-* headers with noWrapper writeMetadata', async () => {
    const path = `/push/${unique('raw')}`;
    const [topic] = await pubsub.createTopic(unique('raw'));
    const [sub] = await topic.createSubscription(unique('raw-sub'), {
      pushConfig: { pushEndpoint: `${receiver.url}${path}`, noWrapper: { writeMetadata: true } },
    });
    const id = await topic.publishMessage({ data: Buffer.from('raw bytes'), attributes: { color: 'blue' } });
    await until(() => receiver.requests.some((r) => r.path === path), 'the push');
    const req = receiver.requests.find((r) => r.path === path)!;
    expect(req.body.toString()).toBe('raw bytes');
    expect(req.headers).toMatchObject({ 'x-goog-pubsub-message-id': id, 'x-goog-pubsub-subscription-name': sub.name, color: 'blue' });
    expect(req.headers['x-goog-pubsub-delivery-attempt']).toBeUndefined();
    expect(req.headers.authorization).toBeUndefined();
  });

  it.each([200, 201, 202, 204])('acks a push answered %i', async (status) => {
    const path = `/push/${unique(`ack-${status}`)}`;
    answers.set(path, () => status);
    const [topic] = await pubsub.createTopic(unique(`ack-${status}`));
    await topic.createSubscription(unique(`ack-${status}-sub`), { pushConfig: { pushEndpoint: `${receiver.url}${path}` } });
    const before = emulator.pubsubStats().acked;
    await topic.publishMessage({ data: Buffer.from('x') });
    await until(() => emulator.pubsubStats().acked === before + 1, `the ack of a ${status}`);
    expect(receiver.requests.filter((r) => r.path === path)).toHaveLength(1);
  });

  it('acks a push answered 102 Processing, whatever follows', async () => {
    const path = `/push/${unique('ack-102')}`;
    const [topic] = await pubsub.createTopic(unique('ack-102'));
    const interim = await startInterimReceiver();
    try {
      await topic.createSubscription(unique('ack-102-sub'), { pushConfig: { pushEndpoint: `${interim.url}${path}` } });
      const before = emulator.pubsubStats().acked;
      await topic.publishMessage({ data: Buffer.from('x') });
      await until(() => emulator.pubsubStats().acked === before + 1, 'the ack of a 102');
      expect(interim.count()).toBe(1);
    } finally {
      await interim.close();
    }
  });

  it.each([400, 404, 409, 429, 500, 503])('nacks a push answered %i and delivers it again', async (status) => {
    const path = `/push/${unique(`nack-${status}`)}`;
    answers.set(path, (n) => (n === 0 ? status : 200));
    const [topic] = await pubsub.createTopic(unique(`nack-${status}`));
    await topic.createSubscription(unique(`nack-${status}-sub`), { pushConfig: { pushEndpoint: `${receiver.url}${path}` } });
    await topic.publishMessage({ data: Buffer.from('x') });
    await until(() => receiver.requests.filter((r) => r.path === path).length === 2, `the redelivery after a ${status}`);
    const [first, second] = receiver.requests.filter((r) => r.path === path);
    expect(JSON.parse(second!.body.toString()).message.messageId).toBe(JSON.parse(first!.body.toString()).message.messageId);
  });
});

describe('StreamingPull', () => {
  it('ends an open stream with NOT_FOUND when its subscription is deleted', async () => {
    const [topic] = await pubsub.createTopic(unique('gone'));
    const [sub] = await topic.createSubscription(unique('gone-sub'));
    const listening = pubsub.subscription(sub.name);
    const errors: Array<{ code?: number }> = [];
    listening.on('error', (e: { code?: number }) => errors.push(e));
    listening.on('message', (m: Message) => m.ack());
    await topic.publishMessage({ data: Buffer.from('x') });
    await until(() => emulator.pubsubStats().delivered > 0, 'the stream to receive');
    await sub.delete();
    await until(() => errors.length > 0, 'the stream error');
    expect(errors[0]!.code).toBe(5);
    await listening.close();
  });
});

describe('StreamingPull requests', () => {
  /** Opens a raw StreamingPull, writes `requests`, and resolves with the status it ends with. */
  async function streamStatus(requests: Array<Record<string, unknown>>): Promise<number | undefined> {
    const client = await subscriberClient();
    const stream = client.streamingPull();
    const ended = new Promise<number | undefined>((resolve) => {
      stream.on('error', (e: { code?: number }) => resolve(e.code));
      stream.on('data', () => {});
    });
    for (const r of requests) stream.write(r);
    const code = await ended;
    stream.end();
    return code;
  }

  it('aborts with INVALID_ARGUMENT when the first request names no subscription, sets a bad deadline or acks a malformed id', async () => {
    const [topic] = await pubsub.createTopic(unique('raw-stream'));
    const [sub] = await topic.createSubscription(unique('raw-stream-sub'));
    expect(await streamStatus([{ streamAckDeadlineSeconds: 10 }])).toBe(3);
    expect(await streamStatus([{ subscription: sub.name, streamAckDeadlineSeconds: 5 }])).toBe(3);
    expect(await streamStatus([{ subscription: sub.name, streamAckDeadlineSeconds: 10 }, { ackIds: ['malformed'] }])).toBe(3);
    expect(await streamStatus([{ subscription: `${sub.name}-missing`, streamAckDeadlineSeconds: 10 }])).toBe(5);
  });
});

describe('updates', () => {
  it('changes a subscription with setMetadata and modifyPushConfig, and a topic with setMetadata', async () => {
    const [topic] = await pubsub.createTopic(unique('update'));
    const [sub] = await topic.createSubscription(unique('update-sub'));
    await sub.setMetadata({ ackDeadlineSeconds: 45, labels: { env: 'test' } });
    let [metadata] = await sub.getMetadata();
    expect(metadata).toMatchObject({ ackDeadlineSeconds: 45, labels: { env: 'test' } });
    await sub.modifyPushConfig({ pushEndpoint: `${receiver.url}/push/updated` });
    [metadata] = await sub.getMetadata();
    expect(metadata.pushConfig?.pushEndpoint).toBe(`${receiver.url}/push/updated`);
    await sub.modifyPushConfig({});
    [metadata] = await sub.getMetadata();
    expect(metadata.pushConfig?.pushEndpoint ?? '').toBe('');
    await topic.setMetadata({ labels: { team: 'core' } });
    const [topicMetadata] = await topic.getMetadata();
    expect(topicMetadata.labels).toEqual({ team: 'core' });
  });

  it('keeps a deleted topic\'s subscriptions, showing _deleted-topic_', async () => {
    const [topic] = await pubsub.createTopic(unique('doomed'));
    const [sub] = await topic.createSubscription(unique('orphan'));
    await topic.delete();
    const [metadata] = await sub.getMetadata();
    expect(metadata.topic).toBe('_deleted-topic_');
  });
});

describe('listing', () => {
  it('pages topics, subscriptions and a topic\'s subscriptions', async () => {
    const project = new PubSub({ projectId: 'paging-project' });
    const names = ['t-aaa', 't-bbb', 't-ccc', 't-ddd', 't-eee'];
    for (const n of names) await project.createTopic(n);
    for (const n of ['s-111', 's-222', 's-333']) await project.topic('t-aaa').createSubscription(n);
    const [page1, next1] = await project.getTopics({ pageSize: 2, autoPaginate: false });
    expect(page1.map((t) => t.name.split('/').pop())).toEqual(['t-aaa', 't-bbb']);
    const [page2] = await project.getTopics({ ...next1!, pageSize: 2, autoPaginate: false });
    expect(page2.map((t) => t.name.split('/').pop())).toEqual(['t-ccc', 't-ddd']);
    const [all] = await project.getTopics();
    expect(all).toHaveLength(5);
    const [subs, nextSubs] = await project.getSubscriptions({ pageSize: 2, autoPaginate: false });
    expect(subs).toHaveLength(2);
    expect(nextSubs).toBeTruthy();
    const [topicSubs] = await project.topic('t-aaa').getSubscriptions();
    expect(topicSubs.map((s) => s.name.split('/').pop())).toEqual(['s-111', 's-222', 's-333']);
    await project.close();
  });
});

describe('errors', () => {
  const code = async (p: Promise<unknown>): Promise<number | undefined> =>
    p.then(
      () => undefined,
      (e: { code?: number }) => e.code,
    );

  it('answers ALREADY_EXISTS for a topic or subscription that exists', async () => {
    const [topic] = await pubsub.createTopic(unique('dup'));
    expect(await code(pubsub.createTopic(topic.name))).toBe(6);
    const [sub] = await topic.createSubscription(unique('dup-sub'));
    expect(await code(topic.createSubscription(sub.name))).toBe(6);
  });

  it('answers NOT_FOUND for a missing topic, subscription or subscription topic', async () => {
    expect(await code(pubsub.topic('missing-topic').getMetadata())).toBe(5);
    expect(await code(pubsub.subscription('missing-sub').getMetadata())).toBe(5);
    expect(await code(pubsub.topic('missing-topic').createSubscription('orphan-sub'))).toBe(5);
    expect(await code(pubsub.topic('missing-topic').publishMessage({ data: Buffer.from('x') }))).toBe(5);
  });

  it('answers INVALID_ARGUMENT for bad names and out-of-range settings', async () => {
    expect(await code(pubsub.createTopic('ab'))).toBe(3);
    expect(await code(pubsub.createTopic('googtopic'))).toBe(3);
    expect(await code(pubsub.createTopic('9starts-with-digit'))).toBe(3);
    const [topic] = await pubsub.createTopic(unique('limits'));
    expect(await code(topic.createSubscription(unique('ack5'), { ackDeadlineSeconds: 5 }))).toBe(3);
    expect(await code(topic.createSubscription(unique('ack601'), { ackDeadlineSeconds: 601 }))).toBe(3);
    expect(await code(topic.createSubscription(unique('dl3'), { deadLetterPolicy: { deadLetterTopic: topic.name, maxDeliveryAttempts: 3 } }))).toBe(3);
    expect(await code(topic.createSubscription(unique('dl101'), { deadLetterPolicy: { deadLetterTopic: topic.name, maxDeliveryAttempts: 101 } }))).toBe(3);
    expect(
      await code(topic.createSubscription(unique('backoff'), { retryPolicy: { minimumBackoff: { seconds: 700 }, maximumBackoff: { seconds: 800 } } })),
    ).toBe(3);
  });

  it('answers INVALID_ARGUMENT for more than 1000 messages or more than 10 MB in one publish', async () => {
    const [topic] = await pubsub.createTopic(unique('big'));
    const publisher = new v1.PublisherClient(await v1Options());
    const many = Array.from({ length: 1001 }, () => ({ data: Buffer.from('x') }));
    expect(await code(publisher.publish({ topic: topic.name, messages: many }))).toBe(3);
    expect(await code(publisher.publish({ topic: topic.name, messages: [{ data: Buffer.alloc(10_000_001) }] }))).toBe(3);
    const [ok] = await publisher.publish({ topic: topic.name, messages: [{ data: Buffer.from('x') }] });
    expect(ok.messageIds).toHaveLength(1);
    await publisher.close();
  });

  it('answers INVALID_ARGUMENT for a malformed filter', async () => {
    const [topic] = await pubsub.createTopic(unique('bad-filter'));
    expect(await code(topic.createSubscription(unique('bad-filtered'), { filter: 'attributes.kind == "a"' }))).toBe(3);
  });
});
