import { invalidArgument } from '../status.js';
import { parseFilter } from './filter.js';
import { PUBSUB_LIMITS as L, type PushConfigRecord, type SubscriptionInput, type SubscriptionRecord, type TopicInput, type TopicRecord } from './model.js';
import { parseSubscriptionName, parseTopicName } from './names.js';

const secs = (ms: number): string => `${ms / 1000}s`;

/** Fields UpdateSubscription may change (REST/proto snake_case paths; camelCase is accepted too). */
const SUBSCRIPTION_MUTABLE = new Set([
  'ack_deadline_seconds',
  'push_config',
  'retry_policy',
  'dead_letter_policy',
  'labels',
  'message_retention_duration',
  'retain_acked_messages',
  'expiration_policy',
  'enable_exactly_once_delivery',
  'detached',
]);
const SUBSCRIPTION_IMMUTABLE = new Set(['name', 'topic', 'enable_message_ordering', 'filter']);
const TOPIC_MUTABLE = new Set(['labels', 'message_retention_duration', 'kms_key_name', 'message_storage_policy', 'schema_settings']);

const snake = (path: string): string => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function checkPushConfig(p: PushConfigRecord | undefined): PushConfigRecord | undefined {
  if (p === undefined || p.pushEndpoint === '') return undefined;
  let url: URL;
  try {
    url = new URL(p.pushEndpoint);
  } catch {
    throw invalidArgument(`Invalid push_config.push_endpoint '${p.pushEndpoint}': it must be an absolute http(s) URL.`);
  }
  // Production requires https; locally, receivers are plain http on loopback or in compose.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidArgument(`Invalid push_config.push_endpoint '${p.pushEndpoint}': the scheme must be https (or http locally).`);
  }
  if (p.oidcToken !== undefined && p.oidcToken.serviceAccountEmail === '') {
    throw invalidArgument('push_config.oidc_token.service_account_email is required when oidc_token is set.');
  }
  return p;
}

/**
 * A complete, validated subscription record from an input, with production's defaults; `base`,
 * when given, supplies the fields the input leaves out (UpdateSubscription).
 */
export function resolveSubscription(input: SubscriptionInput, base?: SubscriptionRecord): SubscriptionRecord {
  const name = input.name ?? base?.name ?? '';
  if (name === '') throw invalidArgument('subscription.name is required.');
  parseSubscriptionName(name);
  const topic = input.topic ?? base?.topic ?? '';
  if (topic === '') throw invalidArgument('subscription.topic is required.');
  if (base === undefined) parseTopicName(topic);

  let ack = input.ackDeadlineSeconds ?? base?.ackDeadlineSeconds ?? 0;
  if (ack === 0) ack = L.defaultAckDeadlineSeconds;
  if (!Number.isInteger(ack) || ack < L.minAckDeadlineSeconds || ack > L.maxAckDeadlineSeconds) {
    throw invalidArgument(
      `Invalid ack_deadline_seconds ${ack}: it must be between ${L.minAckDeadlineSeconds} and ${L.maxAckDeadlineSeconds} seconds (0 means the default, 10).`,
    );
  }

  const retry = 'retryPolicy' in input ? input.retryPolicy : base?.retryPolicy;
  if (retry !== undefined) {
    for (const [field, v] of [['minimum_backoff', retry.minimumBackoffMs], ['maximum_backoff', retry.maximumBackoffMs]] as const) {
      if (!(v >= 0 && v <= L.maxBackoffMs)) {
        throw invalidArgument(`The value for ${field} is out of bounds. You passed ${secs(v)} in the request, but the value must be between 0s and 600s.`);
      }
    }
    if (retry.minimumBackoffMs > retry.maximumBackoffMs) {
      throw invalidArgument(
        `Invalid retry_policy: minimum_backoff (${secs(retry.minimumBackoffMs)}) must not exceed maximum_backoff (${secs(retry.maximumBackoffMs)}).`,
      );
    }
  }

  const dl = 'deadLetterPolicy' in input ? input.deadLetterPolicy : base?.deadLetterPolicy;
  let deadLetterPolicy: SubscriptionRecord['deadLetterPolicy'];
  if (dl !== undefined && dl.deadLetterTopic !== '') {
    parseTopicName(dl.deadLetterTopic);
    const attempts = dl.maxDeliveryAttempts === 0 ? L.minDeliveryAttempts : dl.maxDeliveryAttempts;
    if (!Number.isInteger(attempts) || attempts < L.minDeliveryAttempts || attempts > L.maxDeliveryAttempts) {
      const small = attempts < L.minDeliveryAttempts;
      throw invalidArgument(
        `The value for max_delivery_attempts is too ${small ? 'small' : 'large'}. You passed ${attempts} in the request, but the ${small ? 'minimum' : 'maximum'} value is ${small ? L.minDeliveryAttempts : L.maxDeliveryAttempts}.`,
      );
    }
    deadLetterPolicy = { deadLetterTopic: dl.deadLetterTopic, maxDeliveryAttempts: attempts };
  }

  const retention = input.messageRetentionDurationMs ?? base?.messageRetentionDurationMs ?? L.defaultRetentionMs;
  if (retention < L.minRetentionMs || retention > L.maxSubscriptionRetentionMs) {
    throw invalidArgument(`Invalid message_retention_duration ${secs(retention)}: it must be between 10 minutes and 7 days.`);
  }
  let ttl = input.expirationTtlMs === undefined ? (base?.expirationTtlMs ?? L.defaultExpirationTtlMs) : (input.expirationTtlMs ?? 0);
  if (ttl !== 0 && ttl < L.minExpirationTtlMs) {
    throw invalidArgument(`Invalid expiration_policy.ttl ${secs(ttl)}: it must be at least 1 day (or unset for never).`);
  }
  if (ttl !== 0 && ttl < retention) {
    throw invalidArgument(`Invalid expiration_policy.ttl ${secs(ttl)}: it must not be shorter than message_retention_duration (${secs(retention)}).`);
  }
  ttl = Math.round(ttl);

  const filter = input.filter ?? base?.filter ?? '';
  if (filter !== '' && base === undefined) parseFilter(filter);
  const pushConfig = checkPushConfig('pushConfig' in input ? input.pushConfig : base?.pushConfig);

  const out: SubscriptionRecord = {
    name,
    topic,
    ackDeadlineSeconds: ack,
    retainAckedMessages: input.retainAckedMessages ?? base?.retainAckedMessages ?? false,
    messageRetentionDurationMs: retention,
    labels: input.labels ?? base?.labels ?? {},
    enableMessageOrdering: input.enableMessageOrdering ?? base?.enableMessageOrdering ?? false,
    expirationTtlMs: ttl,
    filter,
    detached: input.detached ?? base?.detached ?? false,
    enableExactlyOnceDelivery: input.enableExactlyOnceDelivery ?? base?.enableExactlyOnceDelivery ?? false,
  };
  if (pushConfig !== undefined) out.pushConfig = pushConfig;
  if (retry !== undefined) out.retryPolicy = { ...retry };
  if (deadLetterPolicy !== undefined) out.deadLetterPolicy = deadLetterPolicy;
  return out;
}

/** Checks an update mask: required, non-empty, only mutable fields. Returns the snake_case paths. */
export function checkUpdateMask(paths: string[] | undefined, kind: 'subscription' | 'topic'): string[] {
  const request = kind === 'subscription' ? 'UpdateSubscriptionRequest' : 'UpdateTopicRequest';
  if (paths === undefined || paths.length === 0) throw invalidArgument(`The update_mask in the ${request} must be set, and must be non-empty.`);
  const mutable = kind === 'subscription' ? SUBSCRIPTION_MUTABLE : TOPIC_MUTABLE;
  return paths.map((p) => {
    const s = snake(p.trim());
    const top = s.split('.')[0]!;
    if (kind === 'subscription' && SUBSCRIPTION_IMMUTABLE.has(top)) {
      throw invalidArgument(`Invalid update_mask provided in the ${request}: the ${top} field in the Subscription is not mutable.`);
    }
    if (!mutable.has(top)) throw invalidArgument(`Invalid update_mask provided in the ${request}: '${p}' is not a known field of ${kind}.`);
    return top;
  });
}

/** The input restricted to the masked fields (so unmasked fields keep their current values). */
export function maskedSubscriptionInput(input: SubscriptionInput, paths: string[]): SubscriptionInput {
  const out: SubscriptionInput = {};
  for (const p of paths) {
    switch (p) {
      case 'ack_deadline_seconds':
        out.ackDeadlineSeconds = input.ackDeadlineSeconds ?? 0;
        break;
      case 'push_config':
        out.pushConfig = input.pushConfig;
        break;
      case 'retry_policy':
        out.retryPolicy = input.retryPolicy;
        break;
      case 'dead_letter_policy':
        out.deadLetterPolicy = input.deadLetterPolicy;
        break;
      case 'labels':
        out.labels = input.labels ?? {};
        break;
      case 'message_retention_duration':
        out.messageRetentionDurationMs = input.messageRetentionDurationMs ?? L.defaultRetentionMs;
        break;
      case 'retain_acked_messages':
        out.retainAckedMessages = input.retainAckedMessages ?? false;
        break;
      case 'expiration_policy':
        out.expirationTtlMs = input.expirationTtlMs === undefined ? L.defaultExpirationTtlMs : input.expirationTtlMs;
        break;
      case 'enable_exactly_once_delivery':
        out.enableExactlyOnceDelivery = input.enableExactlyOnceDelivery ?? false;
        break;
      case 'detached':
        out.detached = input.detached ?? false;
        break;
    }
  }
  return out;
}

/** A validated topic record; `base` supplies unmasked fields on update. */
export function resolveTopic(input: TopicInput, base?: TopicRecord, paths?: string[]): TopicRecord {
  const name = base?.name ?? input.name ?? '';
  if (name === '') throw invalidArgument('topic.name is required.');
  parseTopicName(name);
  const take = (p: string): boolean => paths === undefined || paths.includes(p);
  const out: TopicRecord = { name, labels: (take('labels') ? input.labels : undefined) ?? base?.labels ?? {} };
  const retention = take('message_retention_duration') ? input.messageRetentionDurationMs : base?.messageRetentionDurationMs;
  if (retention !== undefined && retention !== 0) {
    if (retention < L.minRetentionMs || retention > L.maxTopicRetentionMs) {
      throw invalidArgument(`Invalid message_retention_duration ${secs(retention)}: it must be between 10 minutes and 31 days.`);
    }
    out.messageRetentionDurationMs = retention;
  }
  const kms = take('kms_key_name') ? input.kmsKeyName : base?.kmsKeyName;
  if (kms) out.kmsKeyName = kms;
  return out;
}
