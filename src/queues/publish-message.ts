/**
 * Publishing one message to a Pub/Sub topic through the official client, against an emulator or
 * Google: topic names (short id or full path), the client, the bounded publish, and its errors
 * explained for people (`executor submit --topic`).
 */
import { status } from '@grpc/grpc-js';
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { PassThroughClient } from 'google-auth-library';
import { CodedError, messageOf } from '../errors.js';
import { grpcCodeOf } from './explain.js';
import { parseHostPort } from './tasks-client.js';
import type { TopicPath } from './topic-path.js';

/**
 * A new Pub/Sub client: for the emulator at `emulatorHost` (plaintext, no Google credentials
 * looked up), or Google with Application Default Credentials when undefined. Close it when done.
 */
export function newPubSubClient(emulatorHost: string | undefined, projectId: string): PubSub {
  if (emulatorHost === undefined) return new PubSub({ projectId });
  parseHostPort(emulatorHost);
  return new PubSub({
    projectId,
    apiEndpoint: emulatorHost,
    emulatorMode: true,
    // As for the Cloud Tasks client: an emulator needs no token, so nothing probes ADC or metadata.
    authClient: new PassThroughClient() as unknown as NonNullable<NonNullable<ConstructorParameters<typeof PubSub>[0]>['authClient']>,
  });
}

/** One message to publish. */
export interface MessageDescription {
  /** Full topic path. */
  topic: TopicPath;
  /** The message data, as is. */
  data: Buffer;
  /** Message attributes. */
  attributes: Record<string, string>;
}

/** Publishes one message and resolves with its server-assigned id. */
export type PublishMessage = (message: MessageDescription) => Promise<string>;

/** Where publishes go, for error messages. */
export interface PublishEndpoint {
  /** `host:port` of the emulator, or undefined for Google. */
  emulatorHost?: string;
}

/** Maps a Pub/Sub client error to a coded error whose message says what to do next. */
export function explainPublishError(err: unknown, topic: string, endpoint: PublishEndpoint): CodedError {
  if (err instanceof CodedError) return err;
  const detail = (err as { details?: string }).details || messageOf(err);
  const where = endpoint.emulatorHost !== undefined ? `the emulator at ${endpoint.emulatorHost}` : 'Google Pub/Sub';
  switch (grpcCodeOf(err)) {
    case status.NOT_FOUND:
      return new CodedError(
        'TOPIC_NOT_FOUND',
        endpoint.emulatorHost !== undefined
          ? `Topic ${topic} does not exist on ${where}: check --topic/--project, or declare it in the emulator's queues file (topics:) or create it with any Pub/Sub client`
          : `Topic ${topic} does not exist on ${where}: check --topic/--project, or create it (gcloud pubsub topics create TOPIC)`,
        { cause: err },
      );
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new CodedError(
        'PUBSUB_UNAVAILABLE',
        endpoint.emulatorHost !== undefined
          ? `Cannot reach the emulator at ${endpoint.emulatorHost} (${detail}): start it (executor emulator, or npm start for the whole stack) or fix --emulator / PUBSUB_EMULATOR_HOST`
          : `Cannot reach Google Pub/Sub (${detail}): check your network, or pass --emulator host:port to use a local emulator`,
        { cause: err },
      );
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new CodedError(
        'PUBSUB_PERMISSION_DENIED',
        `Not allowed to publish to ${topic} (${detail}): run 'gcloud auth application-default login' or grant roles/pubsub.publisher on the topic`,
        { cause: err },
      );
    default:
      return new CodedError('PUBLISH_FAILED', `Publishing to ${topic} on ${where} failed: ${detail}`, { cause: err });
  }
}

/**
 * Makes the publish operation over a client. Each call is one attempt with a deadline: publishing
 * is not idempotent (a retried publish may deliver twice), and an unreachable Pub/Sub is reported
 * within the deadline rather than after the client's ten-minute default.
 */
export function makePublishMessage(client: PubSub, options: { timeoutMs: number; explain: PublishEndpoint }): PublishMessage {
  const topics = new Map<string, Topic>();
  return async function publishMessage(message: MessageDescription): Promise<string> {
    let topic = topics.get(message.topic);
    if (topic === undefined) {
      // Batches of one flush at once: each call resolves when its message is stored.
      topic = client.topic(message.topic, { batching: { maxMessages: 1 }, gaxOpts: { timeout: options.timeoutMs, retry: null } });
      topics.set(message.topic, topic);
    }
    try {
      return await topic.publishMessage({ data: message.data, attributes: message.attributes });
    } catch (err) {
      throw explainPublishError(err, message.topic, options.explain);
    }
  };
}
