import { ApiError, invalidArgument } from '../../status.js';
import type { PubSubEngine } from '../engine.js';
import { publishMessagesFrom, pushConfigFrom, receivedTo, subscriptionFrom, subscriptionTo, topicFrom, topicTo, type Wire } from './convert.js';

/** A request message in camelCase (a proto-loader object, or the same shape built from a REST call). */
export type Req = Record<string, unknown>;
/** One unary RPC: a result, or a promise of one (Pull may wait). */
export type Handler = (req: Req, signal?: AbortSignal) => unknown;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined);
const strings = (v: unknown, field: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidArgument(`${field} must be a list of strings.`);
  return v as string[];
};
const maskPaths = (v: unknown): string[] | undefined => {
  if (typeof v === 'string') return v === '' ? [] : v.split(',');
  const paths = (v as { paths?: unknown } | undefined)?.paths;
  return Array.isArray(paths) ? paths.map(String) : undefined;
};

/**
 * The unary RPCs of google.pubsub.v1.Publisher and Subscriber by method name, for either wire:
 * the gRPC server and the REST router both call these, so the two can never drift apart.
 */
export function pubsubHandlers(engine: PubSubEngine, wire: Wire): Record<string, Handler> {
  const unimplemented = (what: string): Handler => () => {
    throw new ApiError('UNIMPLEMENTED', `${what} are not implemented by the emulator.`);
  };
  return {
    // Publisher
    CreateTopic: (r) => topicTo(engine.createTopic(topicFrom(r)), wire),
    GetTopic: (r) => topicTo(engine.getTopic(str(r.topic)), wire),
    UpdateTopic: (r) => topicTo(engine.updateTopic(topicFrom(r.topic), maskPaths(r.updateMask)), wire),
    ListTopics: (r) => {
      const p = engine.listTopics(str(r.project), int(r.pageSize), str(r.pageToken) || undefined);
      return { topics: p.items.map((t) => topicTo(t, wire)), nextPageToken: p.nextPageToken };
    },
    ListTopicSubscriptions: (r) => {
      const p = engine.listTopicSubscriptions(str(r.topic), int(r.pageSize), str(r.pageToken) || undefined);
      return { subscriptions: p.items, nextPageToken: p.nextPageToken };
    },
    DeleteTopic: (r) => {
      engine.deleteTopic(str(r.topic));
      return {};
    },
    Publish: (r) => ({ messageIds: engine.publish(str(r.topic), publishMessagesFrom(r.messages ?? [], wire)) }),
    ListTopicSnapshots: (r) => {
      engine.getTopic(str(r.topic));
      return { snapshots: [], nextPageToken: '' };
    },
    DetachSubscription: unimplemented('Detaching subscriptions'),
    // Subscriber
    CreateSubscription: (r) => subscriptionTo(engine.createSubscription(subscriptionFrom(r)), wire),
    GetSubscription: (r) => subscriptionTo(engine.getSubscription(str(r.subscription)), wire),
    UpdateSubscription: (r) => subscriptionTo(engine.updateSubscription(subscriptionFrom(r.subscription), maskPaths(r.updateMask)), wire),
    ListSubscriptions: (r) => {
      const p = engine.listSubscriptions(str(r.project), int(r.pageSize), str(r.pageToken) || undefined);
      return { subscriptions: p.items.map((s) => subscriptionTo(s, wire)), nextPageToken: p.nextPageToken };
    },
    DeleteSubscription: (r) => {
      engine.deleteSubscription(str(r.subscription));
      return {};
    },
    ModifyPushConfig: (r) => {
      engine.modifyPushConfig(str(r.subscription), pushConfigFrom(r.pushConfig));
      return {};
    },
    Pull: async (r, signal) => {
      const deliveries = await engine.pull(str(r.subscription), int(r.maxMessages) ?? 0, r.returnImmediately === true, signal);
      return { receivedMessages: deliveries.map((d) => receivedTo(d, wire)) };
    },
    Acknowledge: (r) => {
      engine.acknowledge(str(r.subscription), strings(r.ackIds, 'ack_ids'));
      return {};
    },
    ModifyAckDeadline: (r) => {
      engine.modifyAckDeadline(str(r.subscription), strings(r.ackIds, 'ack_ids'), int(r.ackDeadlineSeconds) ?? 0);
      return {};
    },
    GetSnapshot: unimplemented('Snapshots'),
    ListSnapshots: (r) => {
      engine.listSubscriptions(str(r.project), 1);
      return { snapshots: [], nextPageToken: '' };
    },
    CreateSnapshot: unimplemented('Snapshots'),
    UpdateSnapshot: unimplemented('Snapshots'),
    DeleteSnapshot: unimplemented('Snapshots'),
    Seek: unimplemented('Seek and snapshots'),
  };
}
