/**
 * The real emulator as the Pub/Sub of executor tests: topics created through the official v1
 * clients, each with a pull subscription that keeps what the code under test publishes, read back
 * (and acked) with Pull.
 */
import type { v1 } from '@google-cloud/pubsub';
import { makePublisherClient, makeSubscriberClient } from '../../src/queues/pubsub-client.js';

/** A message read back from a topic's test subscription. */
export interface PulledMessage {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
}

/** Topics on the emulator at `host`, and their messages. */
export interface EmulatedTopics {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
  /** Creates a topic (full name) with a pull subscription `<id>-test` that records its messages. */
  createTopic(topic: string): Promise<void>;
  /** Every message published to `topic` since the last call (acked, so each is returned once). */
  drain(topic: string): Promise<PulledMessage[]>;
}

/** The test subscription of a topic. */
export const testSubscription = (topic: string): string => `${topic.replace('/topics/', '/subscriptions/')}-test`;

export function emulatedTopics(host: string): EmulatedTopics {
  const publisher = makePublisherClient(host);
  const subscriber = makeSubscriberClient(host);
  return {
    publisher,
    subscriber,
    async createTopic(topic) {
      await publisher.createTopic({ name: topic });
      await subscriber.createSubscription({ name: testSubscription(topic), topic, ackDeadlineSeconds: 60 });
    },
    async drain(topic) {
      const subscription = testSubscription(topic);
      const out: PulledMessage[] = [];
      for (;;) {
        const [pulled] = await subscriber.pull({ subscription, maxMessages: 100, returnImmediately: true });
        const received = pulled.receivedMessages ?? [];
        if (received.length === 0) return out;
        for (const r of received) {
          const m = r.message!;
          out.push({ data: Buffer.from(m.data ?? []), attributes: { ...(m.attributes ?? {}) }, messageId: m.messageId ?? '' });
        }
        await subscriber.acknowledge({ subscription, ackIds: received.map((r) => r.ackId!) });
      }
    },
  };
}
