/**
 * Startup checks that this tier's queue (and Pub/Sub subscription) retries longer than the
 * executor's budget (the rules are src/queues/attempts.ts): a queue whose max_attempts is not
 * greater than MAX_ATTEMPTS silently deletes a task whose last handoff failed, the trap the
 * original README fell into; a subscription without a dead-letter policy cannot count the budget at
 * all. The checks only log: a queue we cannot read (no permission, wrong name) must not stop the
 * service from serving.
 */
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { assessQueueAttempts, assessSubscriptionAttempts } from '../queues/attempts.js';
import { getSubscriptionAttempts, type SubscriptionAttempts, type SubscriptionReader } from '../queues/get-subscription-attempts.js';
import { parseSubscriptionPath } from '../queues/topic-paths.js';
import { grpcCodeOf } from '../queues/explain.js';
import { getQueueMaxAttempts, type QueueReader } from '../queues/get-queue-attempts.js';
import { parseQueuePath } from '../queues/paths.js';

/** What {@link checkQueueDrift} found. */
export type DriftResult =
  | {
      /** The queue allows more attempts than the budget (or unlimited). */
      status: 'ok';
      /** The queue's full path. */
      queue: string;
      /** MAX_ATTEMPTS. */
      maxAttempts: number;
      /** `retryConfig.maxAttempts` as the API reported it (0 = default, -1 = unlimited). */
      queueMaxAttempts: number;
      /** Attempts the queue effectively allows. */
      effective: number | 'unlimited';
    }
  | {
      /** The queue would drop a task whose last handoff failed; an error was logged. */
      status: 'too-few-attempts';
      /** The queue's full path. */
      queue: string;
      /** MAX_ATTEMPTS. */
      maxAttempts: number;
      /** `retryConfig.maxAttempts` as the API reported it. */
      queueMaxAttempts: number;
      /** Attempts the queue effectively allows. */
      effective: number;
    }
  | {
      /** GetQueue failed (permission, not found, unreachable); a warning was logged. */
      status: 'unreadable';
      /** The queue's full path. */
      queue: string;
      /** MAX_ATTEMPTS. */
      maxAttempts: number;
      /** gRPC status code of the failure, when there was one (5 NOT_FOUND, 7 PERMISSION_DENIED, …). */
      grpcCode?: number;
      /** The failure, for logs and tests. */
      reason: string;
    };

/** Options for {@link checkQueueDrift}. */
export interface DriftCheckOptions {
  /** The process's Cloud Tasks client (only `getQueue` is used). */
  client: QueueReader;
  /** Full queue path, projects/P/locations/L/queues/Q. */
  queue: string;
  /** This tier's MAX_ATTEMPTS. */
  maxAttempts: number;
  /** Where the verdict is logged. */
  logger: Logger;
  /** Limit for the GetQueue call, so startup never waits long on it; default 10 s. */
  timeoutMs?: number;
}

function updateCommand(queue: string, attempts: string): string {
  const parts = parseQueuePath(queue);
  if (parts === undefined) return `gcloud tasks queues update ${queue} --max-attempts=${attempts}`;
  return `gcloud tasks queues update ${parts.queue} --project=${parts.project} --location=${parts.location} --max-attempts=${attempts}`;
}

/**
 * Reads `queue` and logs an error naming both numbers when its max_attempts is neither -1 nor
 * greater than `maxAttempts`. Never throws: an unreadable queue is logged as a warning and
 * reported as `unreadable`.
 */
export async function checkQueueDrift(options: DriftCheckOptions): Promise<DriftResult> {
  const { client, queue, maxAttempts, logger } = options;
  let queueMaxAttempts: number;
  try {
    queueMaxAttempts = await getQueueMaxAttempts(client, queue, options.timeoutMs ?? 10_000);
  } catch (err) {
    const grpcCode = grpcCodeOf(err);
    const reason = messageOf(err);
    logger.warn(
      { code: 'QUEUE_DRIFT_UNCHECKED', queue, maxAttempts, grpcCode, reason },
      `Could not read queue ${queue} to check its max_attempts against MAX_ATTEMPTS=${maxAttempts}; ` +
        'grant the runtime account roles/cloudtasks.viewer on it (or fix EXECUTOR_QUEUE) so the check can run',
    );
    return { status: 'unreadable', queue, maxAttempts, ...(grpcCode !== undefined ? { grpcCode } : {}), reason };
  }

  const verdict = assessQueueAttempts(queueMaxAttempts, maxAttempts);
  if (verdict.ok) {
    logger.debug({ queue, maxAttempts, queueMaxAttempts, effective: verdict.effective }, 'Queue max_attempts exceeds MAX_ATTEMPTS');
    return { status: 'ok', queue, maxAttempts, queueMaxAttempts, effective: verdict.effective };
  }
  const shown = queueMaxAttempts === 0 ? `0 (the default, ${verdict.effective})` : String(queueMaxAttempts);
  logger.error(
    { code: 'QUEUE_MAX_ATTEMPTS_TOO_LOW', queue, maxAttempts, queueMaxAttempts, effective: verdict.effective },
    `Queue ${queue} has max_attempts ${shown}, not greater than MAX_ATTEMPTS=${maxAttempts}: a task whose handoff fails ` +
      `on its last attempt will be dropped instead of retried. Set the queue's max_attempts to -1 or at least ${maxAttempts + 1} ` +
      `(${updateCommand(queue, String(maxAttempts + 10))}), or lower MAX_ATTEMPTS.`,
  );
  return { status: 'too-few-attempts', queue, maxAttempts, queueMaxAttempts, effective: verdict.effective };
}

/** What {@link checkSubscriptionDrift} found. */
export type SubscriptionDriftResult =
  | { status: 'ok'; subscription: string; maxAttempts: number; maxDeliveryAttempts: number }
  /** No dead-letter policy: no deliveryAttempt, the budget cannot be counted; an error was logged. */
  | { status: 'no-dead-letter-policy'; subscription: string; maxAttempts: number }
  /** The policy dead-letters at or before the budget; an error was logged. */
  | { status: 'too-few-attempts'; subscription: string; maxAttempts: number; maxDeliveryAttempts: number }
  /** GetSubscription failed; a warning was logged. */
  | { status: 'unreadable'; subscription: string; maxAttempts: number; grpcCode?: number; reason: string };

/** Options for {@link checkSubscriptionDrift}. */
export interface SubscriptionDriftOptions {
  /** The process's Subscriber client (only `getSubscription` is used). */
  client: SubscriptionReader;
  /** Full subscription name, projects/P/subscriptions/S. */
  subscription: string;
  /** This tier's MAX_ATTEMPTS. */
  maxAttempts: number;
  /** Where the verdict is logged. */
  logger: Logger;
  /** Limit for the GetSubscription call; default 10 s. */
  timeoutMs?: number;
}

function updateSubscriptionCommand(subscription: string, attempts: number): string {
  const parts = parseSubscriptionPath(subscription);
  const id = parts?.id ?? subscription;
  const project = parts !== undefined ? ` --project=${parts.project}` : '';
  return `gcloud pubsub subscriptions update ${id}${project} --dead-letter-topic=DEAD_LETTER_TOPIC --max-delivery-attempts=${attempts}`;
}

/**
 * The Pub/Sub counterpart of {@link checkQueueDrift}: reads this tier's push subscription and logs
 * an error when it has no dead-letter policy (Pub/Sub then sends no deliveryAttempt, so every
 * delivery is attempt 1 and MAX_ATTEMPTS is never reached) or when its maxDeliveryAttempts is not
 * greater than MAX_ATTEMPTS (a message whose last handoff failed is dead-lettered instead of
 * redelivered). Like the queue check it only logs and never throws.
 */
export async function checkSubscriptionDrift(options: SubscriptionDriftOptions): Promise<SubscriptionDriftResult> {
  const { client, subscription, maxAttempts, logger } = options;
  let found: SubscriptionAttempts;
  try {
    found = await getSubscriptionAttempts(client, subscription, options.timeoutMs ?? 10_000);
  } catch (err) {
    const grpcCode = grpcCodeOf(err);
    const reason = messageOf(err);
    logger.warn(
      { code: 'SUBSCRIPTION_DRIFT_UNCHECKED', subscription, maxAttempts, grpcCode, reason },
      `Could not read subscription ${subscription} to check its dead-letter policy against MAX_ATTEMPTS=${maxAttempts}; ` +
        'grant the runtime account roles/pubsub.viewer on it (or fix EXECUTOR_SUBSCRIPTION) so the check can run',
    );
    return { status: 'unreadable', subscription, maxAttempts, ...(grpcCode !== undefined ? { grpcCode } : {}), reason };
  }
  const verdict = assessSubscriptionAttempts(found.maxDeliveryAttempts, maxAttempts);
  if (verdict.ok) {
    logger.debug({ subscription, maxAttempts, maxDeliveryAttempts: verdict.maxDeliveryAttempts }, 'Subscription maxDeliveryAttempts exceeds MAX_ATTEMPTS');
    return { status: 'ok', subscription, maxAttempts, maxDeliveryAttempts: verdict.maxDeliveryAttempts };
  }
  const fix = updateSubscriptionCommand(subscription, Math.min(100, Math.max(5, maxAttempts + 2)));
  if (verdict.reason === 'no-dead-letter-policy') {
    logger.error(
      { code: 'SUBSCRIPTION_NO_DEAD_LETTER_POLICY', subscription, maxAttempts },
      `Subscription ${subscription} has no dead-letter policy, so Pub/Sub sends no deliveryAttempt: every push counts as attempt 1 and ` +
        `the budget MAX_ATTEMPTS=${maxAttempts} cannot be counted (a failing job is nacked until its message expires, never forwarded). ` +
        `Give it a dead-letter policy with maxDeliveryAttempts greater than MAX_ATTEMPTS (${fix}).`,
    );
    return { status: 'no-dead-letter-policy', subscription, maxAttempts };
  }
  logger.error(
    { code: 'SUBSCRIPTION_MAX_DELIVERY_ATTEMPTS_TOO_LOW', subscription, maxAttempts, maxDeliveryAttempts: verdict.maxDeliveryAttempts },
    `Subscription ${subscription} has maxDeliveryAttempts ${verdict.maxDeliveryAttempts}, not greater than MAX_ATTEMPTS=${maxAttempts}: ` +
      'a message whose handoff fails on its last attempt goes to the dead-letter topic instead of being redelivered. ' +
      (maxAttempts < 100 ? `Raise it to at least ${maxAttempts + 1} (${fix}), or lower MAX_ATTEMPTS.` : 'Lower MAX_ATTEMPTS below 100 (the most Pub/Sub allows).'),
  );
  return { status: 'too-few-attempts', subscription, maxAttempts, maxDeliveryAttempts: verdict.maxDeliveryAttempts };
}
