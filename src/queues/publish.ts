/**
 * The one Publish operation: one message to one topic, bounded and not retried by the client (the
 * caller's answer — 503, so the push is redelivered — is the retry). Pub/Sub has no message names
 * to deduplicate on, so idempotence is the subscriber's, through the `eventId` attribute the caller
 * sets (names.ts `outcomeEventId`).
 */
import type { protos } from '@google-cloud/pubsub';

/** The part of the v1 PublisherClient this operation uses; the real client satisfies it. */
export interface PublisherApi {
  publish(request: protos.google.pubsub.v1.IPublishRequest, options?: { timeout?: number; retry?: null }): Promise<unknown>;
}

/** One message to publish. */
export interface MessageDescription {
  /** Full topic name. */
  topic: string;
  /** The message's data. */
  data: Buffer | Uint8Array;
  /** String attributes (Pub/Sub allows 100, keys ≤ 256 bytes, values ≤ 1024 bytes). */
  attributes: Record<string, string>;
}

/** What one Publish did. */
export interface PublishedMessage {
  /** Full topic name. */
  topic: string;
  /** The id the server gave the message. */
  messageId: string;
}

/** Publishes one message; throws the client's error. */
export type Publish = (message: MessageDescription) => Promise<PublishedMessage>;

/** Makes the Publish operation over a client. */
export function makePublish(client: PublisherApi, options: { timeoutMs: number }): Publish {
  return async function publish(message: MessageDescription): Promise<PublishedMessage> {
    const answer = await client.publish(
      { topic: message.topic, messages: [{ data: message.data, attributes: message.attributes }] },
      { timeout: options.timeoutMs, retry: null },
    );
    const response = Array.isArray(answer) ? (answer[0] as protos.google.pubsub.v1.IPublishResponse | undefined) : undefined;
    return { topic: message.topic, messageId: response?.messageIds?.[0] ?? '' };
  };
}
