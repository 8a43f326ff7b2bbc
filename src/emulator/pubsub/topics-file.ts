import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { durationToMs, readQueuesSource, type FileDuration } from '../queues-file.js';
import { parseFilter } from './filter.js';
import type { PushConfigRecord, SubscriptionInput, TopicInput } from './model.js';
import { isResourceId, parseSubscriptionName, parseTopicName } from './names.js';

/** A subscription declared in a queues file (REST field names; durations like "10s"). */
export interface QueuesFileSubscription {
  /** Short id, or full projects/P/subscriptions/S. */
  name: string;
  ackDeadlineSeconds?: number;
  pushConfig?: {
    pushEndpoint: string;
    attributes?: Record<string, string>;
    oidcToken?: { serviceAccountEmail: string; audience?: string };
    noWrapper?: { writeMetadata?: boolean };
  };
  retryPolicy?: { minimumBackoff?: FileDuration; maximumBackoff?: FileDuration };
  /** deadLetterTopic: short id or full topic name. */
  deadLetterPolicy?: { deadLetterTopic: string; maxDeliveryAttempts?: number };
  enableMessageOrdering?: boolean;
  /** Pub/Sub filter syntax, e.g. 'attributes.kind = "order.paid"'. */
  filter?: string;
  messageRetentionDuration?: FileDuration;
  labels?: Record<string, string>;
}

/** A topic declared in a queues file, with the subscriptions attached to it. */
export interface QueuesFileTopic {
  /** Short id, or full projects/P/topics/T. */
  name: string;
  labels?: Record<string, string>;
  subscriptions?: QueuesFileSubscription[];
}

const duration = z.union([
  z.number().nonnegative('must be a non-negative number of seconds'),
  z.string().regex(/^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/, 'must be a duration like "0.5s", "250ms", "5m" or "1h"'),
]);
const labels = z.record(z.string(), z.string());

const subscriptionSchema = z.strictObject({
  name: z.string().min(1, 'is required'),
  ackDeadlineSeconds: z.number().int('must be an integer').min(10, 'must be at least 10').max(600, 'must be at most 600').optional(),
  pushConfig: z
    .strictObject({
      pushEndpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
      attributes: labels.optional(),
      oidcToken: z.strictObject({ serviceAccountEmail: z.string().min(1, 'is required'), audience: z.string().optional() }).optional(),
      noWrapper: z.strictObject({ writeMetadata: z.boolean().optional() }).optional(),
    })
    .optional(),
  retryPolicy: z.strictObject({ minimumBackoff: duration.optional(), maximumBackoff: duration.optional() }).optional(),
  deadLetterPolicy: z
    .strictObject({
      deadLetterTopic: z.string().min(1, 'is required'),
      maxDeliveryAttempts: z.number().int('must be an integer').min(5, 'must be at least 5').max(100, 'must be at most 100').optional(),
    })
    .optional(),
  enableMessageOrdering: z.boolean().optional(),
  filter: z.string().optional(),
  messageRetentionDuration: duration.optional(),
  labels: labels.optional(),
});

const topicSchema = z.strictObject({
  name: z.string().min(1, 'is required'),
  labels: labels.optional(),
  subscriptions: z.array(subscriptionSchema).default([]),
});

const fileSchema = z.looseObject({
  project: z.string().optional(),
  topics: z.array(topicSchema).default([]),
});

/** The Pub/Sub resources of a queues file, in creation order (topics first). */
export interface PubSubDeclarations {
  topics: TopicInput[];
  subscriptions: SubscriptionInput[];
}

/**
 * Reads the `topics:` section of a queues file (same sources as loadQueuesFile). Every problem is
 * reported at once, each naming the topic or subscription and the field.
 */
export function loadPubSubDeclarations(source: unknown): PubSubDeclarations {
  const { raw, origin } = readQueuesSource(source);
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${describePath(raw, i.path)}: ${i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message}`);
    throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', problems, `Invalid ${origin}`);
  }
  const project = parsed.data.project ?? 'local-project';
  const problems: string[] = [];
  const full = (name: string, kind: 'topics' | 'subscriptions', label: string): string | undefined => {
    if (!name.includes('/')) {
      if (isResourceId(name)) return `projects/${project}/${kind}/${name}`;
      problems.push(`${label}: '${name}' is not a valid id (3 to 255 letters, digits or - _ . ~ + %, starting with a letter, not with "goog")`);
      return undefined;
    }
    try {
      (kind === 'topics' ? parseTopicName : parseSubscriptionName)(name);
      return name;
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const out: PubSubDeclarations = { topics: [], subscriptions: [] };
  const seen = new Set<string>();
  const declaredTopics = new Set(parsed.data.topics.map((t) => (t.name.includes('/') ? t.name : `projects/${project}/topics/${t.name}`)));
  parsed.data.topics.forEach((t, i) => {
    const label = `topics[${i}] (${t.name})`;
    const name = full(t.name, 'topics', `${label}.name`);
    if (name === undefined) return;
    if (seen.has(name)) problems.push(`${label}.name: topic ${name} is defined twice`);
    seen.add(name);
    out.topics.push({ name, labels: t.labels ?? {} });
    t.subscriptions.forEach((s, j) => {
      const sl = `${label}.subscriptions[${j}] (${s.name})`;
      const subName = full(s.name, 'subscriptions', `${sl}.name`);
      if (subName === undefined) return;
      if (seen.has(subName)) problems.push(`${sl}.name: subscription ${subName} is defined twice`);
      seen.add(subName);
      const input: SubscriptionInput = { name: subName, topic: name, labels: s.labels ?? {} };
      if (s.ackDeadlineSeconds !== undefined) input.ackDeadlineSeconds = s.ackDeadlineSeconds;
      if (s.enableMessageOrdering !== undefined) input.enableMessageOrdering = s.enableMessageOrdering;
      if (s.filter !== undefined) {
        try {
          parseFilter(s.filter);
          input.filter = s.filter;
        } catch (err) {
          problems.push(`${sl}.filter: ${(err as Error).message}`);
        }
      }
      if (s.messageRetentionDuration !== undefined) input.messageRetentionDurationMs = durationToMs(s.messageRetentionDuration);
      if (s.pushConfig !== undefined) {
        const p: PushConfigRecord = { pushEndpoint: s.pushConfig.pushEndpoint, attributes: s.pushConfig.attributes ?? {} };
        if (s.pushConfig.oidcToken) p.oidcToken = { serviceAccountEmail: s.pushConfig.oidcToken.serviceAccountEmail, audience: s.pushConfig.oidcToken.audience ?? '' };
        if (s.pushConfig.noWrapper) p.noWrapper = { writeMetadata: s.pushConfig.noWrapper.writeMetadata ?? false };
        input.pushConfig = p;
      }
      if (s.retryPolicy !== undefined) {
        input.retryPolicy = {
          minimumBackoffMs: s.retryPolicy.minimumBackoff === undefined ? 10_000 : durationToMs(s.retryPolicy.minimumBackoff),
          maximumBackoffMs: s.retryPolicy.maximumBackoff === undefined ? 600_000 : durationToMs(s.retryPolicy.maximumBackoff),
        };
      }
      if (s.deadLetterPolicy !== undefined) {
        const dlt = full(s.deadLetterPolicy.deadLetterTopic, 'topics', `${sl}.deadLetterPolicy.deadLetterTopic`);
        if (dlt !== undefined && !declaredTopics.has(dlt)) {
          problems.push(`${sl}.deadLetterPolicy.deadLetterTopic: topic ${dlt} is not declared in this file: add it under topics`);
        }
        if (dlt !== undefined) input.deadLetterPolicy = { deadLetterTopic: dlt, maxDeliveryAttempts: s.deadLetterPolicy.maxDeliveryAttempts ?? 5 };
      }
      out.subscriptions.push(input);
    });
  });
  if (problems.length > 0) throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', problems, `Invalid ${origin}`);
  return out;
}

/** "topics[0] (outcomes).subscriptions[1] (outcomes-push).pushConfig.pushEndpoint": list items are named by their `name`. */
function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  let label = '';
  let node: unknown = raw;
  for (const p of path) {
    node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[p] : undefined;
    if (typeof p === 'number') {
      const name = node !== null && typeof node === 'object' ? (node as { name?: unknown }).name : undefined;
      label += `[${p}]${typeof name === 'string' ? ` (${name})` : ''}`;
    } else label += `${label === '' ? '' : '.'}${String(p)}`;
  }
  return label || '(file)';
}
