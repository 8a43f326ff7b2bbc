/** Reading a subscription's dead-letter policy: how many deliveries Pub/Sub allows a message of it. */
import type { protos } from '@google-cloud/pubsub';

/** The part of the v1 SubscriberClient this operation uses. */
export interface SubscriptionReader {
  getSubscription(request: protos.google.pubsub.v1.IGetSubscriptionRequest, options?: { timeout?: number }): Promise<unknown>;
}

/** What a subscription says about delivery attempts. */
export interface SubscriptionAttempts {
  /** `deadLetterPolicy.maxDeliveryAttempts`, or undefined without a dead-letter policy (no deliveryAttempt then). */
  maxDeliveryAttempts?: number;
  /** `deadLetterPolicy.deadLetterTopic`, when there is one. */
  deadLetterTopic?: string;
  /** Whether it is a push subscription. */
  push: boolean;
}

/** Reads `subscription`; throws the client's error (with its gRPC `code`) when it cannot be read. */
export async function getSubscriptionAttempts(client: SubscriptionReader, subscription: string, timeoutMs: number): Promise<SubscriptionAttempts> {
  const answer = await client.getSubscription({ subscription }, { timeout: timeoutMs });
  const found = Array.isArray(answer) ? (answer[0] as protos.google.pubsub.v1.ISubscription | undefined) : undefined;
  const policy = found?.deadLetterPolicy;
  const topic = policy?.deadLetterTopic ?? '';
  return {
    // An empty topic is proto3's "no policy"; 0 attempts with a topic is the default, 5.
    ...(topic !== '' ? { deadLetterTopic: topic, maxDeliveryAttempts: Number(policy?.maxDeliveryAttempts ?? 0) || 5 } : {}),
    push: (found?.pushConfig?.pushEndpoint ?? '') !== '',
  };
}
