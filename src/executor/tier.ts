/**
 * This tier's constants, built once from the configuration: its budget, where handoffs go, the
 * policy `decide` applies (derived from those targets, so the two cannot disagree), and the queue
 * id to name when a push does not say which queue it came from.
 */
import type { ExecutorConfig } from '../config.js';
import { shortName } from '../queues/names.js';
import type { QueuePath } from '../queues/paths.js';
import type { TopicPath } from '../queues/topic-paths.js';
import type { TierPolicy } from './decide.js';
import type { Delivery } from './delivery.js';

/** Seconds a 503 asks Cloud Tasks to wait when RETRY_AFTER_SECONDS is not set. */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** Where handoffs go, from the configuration. */
export interface HandoffTargets {
  /** The next tier, through Cloud Tasks. */
  next?: { queue: QueuePath; url: string };
  /** The next tier, through a Pub/Sub topic (NEXT_TOPIC; never together with `next`). */
  nextTopic?: TopicPath;
  /** Topic of every terminal outcome (NOTIFY_TOPIC). */
  notifyTopic?: TopicPath;
  /** Queue of notifications. */
  notifierQueue?: QueuePath;
  /** Default webhook. */
  notifyUrl?: string;
  /** Queue and target of undecodable bodies. */
  deadLetter?: { queue: QueuePath; url: string };
  /** Service account whose OIDC token created tasks carry. */
  serviceAccount?: string;
}

/** One executor tier's constants. */
export interface Tier {
  /** TIER, when set; otherwise each push's number comes from its forwarding headers. */
  number?: number;
  /** MAX_ATTEMPTS. */
  maxAttempts: number;
  /** Where handoffs go. */
  targets: HandoffTargets;
  /** What `decide` may do on this tier. */
  policy: TierPolicy;
  /** Short id of EXECUTOR_QUEUE, when set. */
  queueId?: string;
  /** GOOGLE_CLOUD_PROJECT, for log trace fields. */
  project?: string;
  /** The Retry-After header value of a 503 (RETRY_AFTER_SECONDS). */
  retryAfter: string;
}

/** What `decide` may do, given where handoffs can go. */
function policyOf(targets: HandoffTargets, maxAttempts: number): TierPolicy {
  return {
    maxAttempts,
    hasNext: targets.next !== undefined || targets.nextTopic !== undefined,
    hasDeadLetter: targets.deadLetter !== undefined,
    hasNotifier: targets.notifierQueue !== undefined,
    hasDefaultWebhook: targets.notifyUrl !== undefined,
    hasTopic: targets.notifyTopic !== undefined,
  };
}

/** Builds this tier's constants from its configuration. */
export function makeTier(config: ExecutorConfig): Tier {
  const targets: HandoffTargets = {
    ...(config.next !== undefined ? { next: config.next } : {}),
    ...(config.nextTopic !== undefined ? { nextTopic: config.nextTopic } : {}),
    ...(config.notifyTopic !== undefined ? { notifyTopic: config.notifyTopic } : {}),
    ...(config.notifierQueue !== undefined ? { notifierQueue: config.notifierQueue } : {}),
    ...(config.notifyUrl !== undefined ? { notifyUrl: config.notifyUrl } : {}),
    ...(config.deadLetterQueue !== undefined && config.deadLetterUrl !== undefined
      ? { deadLetter: { queue: config.deadLetterQueue, url: config.deadLetterUrl } }
      : {}),
    ...(config.tasksServiceAccount !== undefined ? { serviceAccount: config.tasksServiceAccount } : {}),
  };
  return {
    ...(config.tier !== undefined ? { number: config.tier } : {}),
    maxAttempts: config.maxAttempts,
    targets,
    policy: policyOf(targets, config.maxAttempts),
    retryAfter: String(config.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS),
    ...(config.executorQueue !== undefined ? { queueId: shortName(config.executorQueue) } : {}),
    ...(config.project !== undefined ? { project: config.project } : {}),
  };
}

/** The number of the tier a push is on: TIER, else one past the tier that forwarded it. */
export function tierNumberOf(tier: Tier, delivery: Delivery): number {
  return tier.number ?? delivery.tier ?? delivery.path.length + 1;
}

/** The queue a push came from, for its path: its own header, else EXECUTOR_QUEUE, else `tier-N`. */
export function queueIdOf(tier: Tier, delivery: Delivery, number: number): string {
  return delivery.queue ?? tier.queueId ?? `tier-${number}`;
}
