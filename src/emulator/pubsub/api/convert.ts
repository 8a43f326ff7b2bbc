/**
 * Pub/Sub resources between the engine's records and the two wire forms: gRPC objects as
 * @grpc/proto-loader gives them (camelCase, Duration/Timestamp as { seconds, nanos }, bytes as
 * Buffer, int64 as numbers) and REST/JSON in the proto3 JSON mapping (Durations "10s", Timestamps
 * RFC 3339, bytes base64). Inputs are validated here with zod, so the engine sees typed values.
 */
import { z } from 'zod';
import { formatDurationJson, parseDurationJson } from '../../api/convert.js';
import { invalidArgument } from '../../status.js';
import type { Delivery, PushConfigRecord, StoredMessage, SubscriptionInput, SubscriptionRecord, TopicInput, TopicRecord } from '../model.js';
import { rfc3339 } from '../push.js';

/** Which wire a value comes from or goes to. */
export type Wire = 'grpc' | 'json';

const strMap = z.record(z.string(), z.string());
const int = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
const secondsNanos = z.looseObject({ seconds: z.union([z.number(), z.string()]).optional(), nanos: z.number().optional() });
const durationValue = z.union([z.string(), z.number(), secondsNanos]);
const bool = z.boolean();

const pushConfigSchema = z.looseObject({
  pushEndpoint: z.string().optional(),
  attributes: strMap.optional(),
  oidcToken: z.looseObject({ serviceAccountEmail: z.string().optional(), audience: z.string().optional() }).nullish(),
  noWrapper: z.looseObject({ writeMetadata: bool.optional() }).nullish(),
  pubsubWrapper: z.looseObject({}).nullish(),
});

// Loose: production accepts fields the emulator does not model (bigqueryConfig, tags, …); they are ignored.
const subscriptionSchema = z.looseObject({
  name: z.string().optional(),
  topic: z.string().optional(),
  pushConfig: pushConfigSchema.nullish(),
  ackDeadlineSeconds: int.optional(),
  retainAckedMessages: bool.optional(),
  messageRetentionDuration: durationValue.nullish(),
  labels: strMap.optional(),
  enableMessageOrdering: bool.optional(),
  expirationPolicy: z.looseObject({ ttl: durationValue.nullish() }).nullish(),
  filter: z.string().optional(),
  deadLetterPolicy: z.looseObject({ deadLetterTopic: z.string().optional(), maxDeliveryAttempts: int.optional() }).nullish(),
  retryPolicy: z.looseObject({ minimumBackoff: durationValue.nullish(), maximumBackoff: durationValue.nullish() }).nullish(),
  detached: bool.optional(),
  enableExactlyOnceDelivery: bool.optional(),
});

const topicSchema = z.looseObject({
  name: z.string().optional(),
  labels: strMap.optional(),
  messageRetentionDuration: durationValue.nullish(),
  kmsKeyName: z.string().optional(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalidArgument(`Invalid value at '${[what, ...issue.path.map(String)].join('.')}': ${issue.message}.`);
}

/** A Duration from either wire, in ms. */
function durationMs(v: z.output<typeof durationValue> | null | undefined, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return parseDurationJson(v, field);
  const ms = Number(v.seconds ?? 0) * 1000 + Math.round((v.nanos ?? 0) / 1e6);
  if (!Number.isFinite(ms)) throw invalidArgument(`Invalid duration for ${field}.`);
  return ms;
}

function durationOut(ms: number, wire: Wire): unknown {
  if (wire === 'json') return formatDurationJson(ms);
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

function timestampOut(ms: number, wire: Wire): unknown {
  return wire === 'json' ? rfc3339(ms) : { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** A push config from either wire; undefined when there is no endpoint (a pull subscription). */
export function pushConfigFrom(raw: unknown): PushConfigRecord | undefined {
  const p = parse(pushConfigSchema.nullish(), raw, 'push_config');
  if (p === undefined || p === null || !p.pushEndpoint) return undefined;
  const out: PushConfigRecord = { pushEndpoint: p.pushEndpoint, attributes: p.attributes ?? {} };
  if (p.oidcToken) out.oidcToken = { serviceAccountEmail: p.oidcToken.serviceAccountEmail ?? '', audience: p.oidcToken.audience ?? '' };
  if (p.noWrapper) out.noWrapper = { writeMetadata: p.noWrapper.writeMetadata ?? false };
  return out;
}

/** Subscription input from either wire (only the fields present). */
export function subscriptionFrom(raw: unknown): SubscriptionInput {
  const s = parse(subscriptionSchema, raw, 'subscription');
  const out: SubscriptionInput = {};
  if (s.name !== undefined) out.name = s.name;
  if (s.topic !== undefined) out.topic = s.topic;
  if (s.pushConfig !== undefined) out.pushConfig = pushConfigFrom(s.pushConfig);
  if (s.ackDeadlineSeconds !== undefined) out.ackDeadlineSeconds = s.ackDeadlineSeconds;
  if (s.retainAckedMessages !== undefined) out.retainAckedMessages = s.retainAckedMessages;
  const retention = durationMs(s.messageRetentionDuration, 'message_retention_duration');
  if (retention !== undefined) out.messageRetentionDurationMs = retention;
  if (s.labels !== undefined) out.labels = s.labels;
  if (s.enableMessageOrdering !== undefined) out.enableMessageOrdering = s.enableMessageOrdering;
  if (s.expirationPolicy !== undefined) out.expirationTtlMs = s.expirationPolicy === null ? undefined : (durationMs(s.expirationPolicy.ttl, 'expiration_policy.ttl') ?? null);
  if (s.filter !== undefined) out.filter = s.filter;
  if (s.deadLetterPolicy !== undefined) {
    out.deadLetterPolicy =
      s.deadLetterPolicy === null || !s.deadLetterPolicy.deadLetterTopic
        ? undefined
        : { deadLetterTopic: s.deadLetterPolicy.deadLetterTopic, maxDeliveryAttempts: s.deadLetterPolicy.maxDeliveryAttempts ?? 0 };
  }
  if (s.retryPolicy !== undefined) {
    out.retryPolicy =
      s.retryPolicy === null
        ? undefined
        : {
            minimumBackoffMs: durationMs(s.retryPolicy.minimumBackoff, 'retry_policy.minimum_backoff') ?? 10_000,
            maximumBackoffMs: durationMs(s.retryPolicy.maximumBackoff, 'retry_policy.maximum_backoff') ?? 600_000,
          };
  }
  if (s.detached !== undefined) out.detached = s.detached;
  if (s.enableExactlyOnceDelivery !== undefined) out.enableExactlyOnceDelivery = s.enableExactlyOnceDelivery;
  return out;
}

/** Topic input from either wire. */
export function topicFrom(raw: unknown): TopicInput {
  const t = parse(topicSchema, raw, 'topic');
  const out: TopicInput = {};
  if (t.name !== undefined) out.name = t.name;
  if (t.labels !== undefined) out.labels = t.labels;
  const retention = durationMs(t.messageRetentionDuration, 'message_retention_duration');
  if (retention !== undefined) out.messageRetentionDurationMs = retention;
  if (t.kmsKeyName !== undefined) out.kmsKeyName = t.kmsKeyName;
  return out;
}

export function topicTo(t: TopicRecord, wire: Wire): Record<string, unknown> {
  const out: Record<string, unknown> = { name: t.name, labels: t.labels, state: 'ACTIVE' };
  if (t.messageRetentionDurationMs !== undefined) out.messageRetentionDuration = durationOut(t.messageRetentionDurationMs, wire);
  if (t.kmsKeyName !== undefined) out.kmsKeyName = t.kmsKeyName;
  return out;
}

function pushConfigTo(p: PushConfigRecord | undefined): Record<string, unknown> {
  if (p === undefined) return {};
  const out: Record<string, unknown> = { pushEndpoint: p.pushEndpoint, attributes: p.attributes };
  if (p.oidcToken) out.oidcToken = { ...p.oidcToken };
  if (p.noWrapper) out.noWrapper = { ...p.noWrapper };
  else out.pubsubWrapper = {};
  return out;
}

export function subscriptionTo(s: SubscriptionRecord, wire: Wire): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: s.name,
    topic: s.topic,
    pushConfig: pushConfigTo(s.pushConfig),
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    retainAckedMessages: s.retainAckedMessages,
    messageRetentionDuration: durationOut(s.messageRetentionDurationMs, wire),
    labels: s.labels,
    enableMessageOrdering: s.enableMessageOrdering,
    expirationPolicy: s.expirationTtlMs === 0 ? {} : { ttl: durationOut(s.expirationTtlMs, wire) },
    filter: s.filter,
    detached: s.detached,
    enableExactlyOnceDelivery: s.enableExactlyOnceDelivery,
    state: 'ACTIVE',
  };
  if (s.deadLetterPolicy) out.deadLetterPolicy = { ...s.deadLetterPolicy };
  if (s.retryPolicy) {
    out.retryPolicy = { minimumBackoff: durationOut(s.retryPolicy.minimumBackoffMs, wire), maximumBackoff: durationOut(s.retryPolicy.maximumBackoffMs, wire) };
  }
  return out;
}

/** One message to publish, from either wire. */
export interface PublishInput {
  data?: Buffer | undefined;
  attributes?: Record<string, string> | undefined;
  orderingKey?: string | undefined;
}

const publishMessageJson = z.looseObject({ data: z.string().optional(), attributes: strMap.optional(), orderingKey: z.string().optional() });

/** The messages of a Publish request; gRPC data is already a Buffer, JSON data is base64. */
export function publishMessagesFrom(raw: unknown, wire: Wire): PublishInput[] {
  if (!Array.isArray(raw)) throw invalidArgument('messages must be a list of PubsubMessage.');
  return raw.map((m: unknown, i): PublishInput => {
    if (wire === 'grpc') {
      const g = (m ?? {}) as { data?: Buffer; attributes?: Record<string, string>; orderingKey?: string };
      return { data: g.data, attributes: g.attributes, orderingKey: g.orderingKey };
    }
    const j = parse(publishMessageJson, m, `messages[${i}]`);
    if (j.data !== undefined && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(j.data)) {
      throw invalidArgument(`Invalid value at 'messages[${i}].data' (TYPE_BYTES): '${j.data.slice(0, 40)}' is not valid base64.`);
    }
    return { data: j.data === undefined ? undefined : Buffer.from(j.data, 'base64'), attributes: j.attributes, orderingKey: j.orderingKey };
  });
}

function messageTo(m: StoredMessage, wire: Wire): Record<string, unknown> {
  const out: Record<string, unknown> = {
    data: wire === 'json' ? m.data.toString('base64') : m.data,
    attributes: m.attributes,
    messageId: m.messageId,
    publishTime: timestampOut(m.publishTimeMs, wire),
  };
  if (m.orderingKey !== '') out.orderingKey = m.orderingKey;
  return out;
}

/** A ReceivedMessage; deliveryAttempt only when the subscription has a dead-letter policy. */
export function receivedTo(d: Delivery, wire: Wire): Record<string, unknown> {
  const out: Record<string, unknown> = { ackId: d.ackId, message: messageTo(d.message, wire) };
  if (d.deliveryAttempt > 0) out.deliveryAttempt = d.deliveryAttempt;
  return out;
}
