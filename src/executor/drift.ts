/**
 * Startup check that this tier's queue retries longer than the executor's budget (the rule is
 * src/queues/attempts.ts): a queue whose max_attempts is not greater than MAX_ATTEMPTS silently
 * deletes a task whose last handoff failed, the trap the original README fell into. The check only
 * logs: a queue we cannot read (no permission, wrong name) must not stop the service from serving.
 */
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { assessQueueAttempts } from '../queues/attempts.js';
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
