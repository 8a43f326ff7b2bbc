/**
 * Startup check that this tier's queue retries longer than the executor's budget.
 *
 * The executor answers 503 when the handoff after its last budgeted attempt fails, and relies on
 * Cloud Tasks to deliver the task again so it can run the work and retry the handoff. A queue whose max_attempts is
 * not greater than MAX_ATTEMPTS deletes the task instead — silently, which is the trap the original
 * README fell into. The check only logs: a queue we cannot read (no permission, wrong name) must not
 * stop the service from serving.
 *
 * (Part of the deployment work, issue 5, with test/executor/drift.test.ts; serve.ts calls it.)
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import type { Logger } from '../log.js';

/**
 * Cloud Tasks' max_attempts when a queue was created without one. In the v2 API -1 means unlimited
 * and 0 is proto3's "unset": the service then applies its default of 100 attempts.
 */
export const DEFAULT_QUEUE_MAX_ATTEMPTS = 100;

/** The verdict of comparing a queue's max_attempts with MAX_ATTEMPTS. */
export type AttemptsVerdict =
  | {
      /** The queue redelivers after the budget is spent, so a failed handoff is retried. */
      ok: true;
      /** Attempts the queue allows: a number, or 'unlimited' for -1. */
      effective: number | 'unlimited';
    }
  | {
      /** The queue gives up at or before the budget: a failed last handoff would drop the task. */
      ok: false;
      /** Attempts the queue allows (the default, 100, when the queue reports 0). */
      effective: number;
    };

/**
 * Pure comparison: is a queue's `retryConfig.maxAttempts` (as the API reports it) enough for an
 * executor whose budget is `maxAttempts`? Enough means unlimited (-1) or strictly greater.
 */
export function assessQueueAttempts(queueMaxAttempts: number, maxAttempts: number): AttemptsVerdict {
  if (queueMaxAttempts === -1) return { ok: true, effective: 'unlimited' };
  const effective = queueMaxAttempts === 0 ? DEFAULT_QUEUE_MAX_ATTEMPTS : queueMaxAttempts;
  // Anything below -1 is not a value the API accepts; treat it as the worst case rather than "fine".
  if (effective < 0) return { ok: false, effective };
  return effective > maxAttempts ? { ok: true, effective } : { ok: false, effective };
}

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
  client: Pick<CloudTasksClient, 'getQueue'>;
  /** Full queue path, projects/P/locations/L/queues/Q. */
  queue: string;
  /** This tier's MAX_ATTEMPTS. */
  maxAttempts: number;
  /** Where the verdict is logged. */
  logger: Logger;
  /** Limit for the GetQueue call, so startup never waits long on it; default 10 s. */
  timeoutMs?: number;
}

const QUEUE_PATH = /^projects\/([^/]+)\/locations\/([^/]+)\/queues\/([^/]+)$/;

function updateCommand(queue: string, attempts: string): string {
  const m = QUEUE_PATH.exec(queue);
  if (!m) return `gcloud tasks queues update ${queue} --max-attempts=${attempts}`;
  return `gcloud tasks queues update ${m[3]} --project=${m[1]} --location=${m[2]} --max-attempts=${attempts}`;
}

function grpcCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Reads `queue` and logs an error naming both numbers when its max_attempts is neither -1 nor
 * greater than `maxAttempts`. Never throws: an unreadable queue is logged as a warning and
 * reported as `unreadable`.
 *
 * The positional form `(client, queue, maxAttempts, logger)` is the same call, kept for callers
 * written against it.
 */
export async function checkQueueDrift(options: DriftCheckOptions): Promise<DriftResult>;
export async function checkQueueDrift(
  client: Pick<CloudTasksClient, 'getQueue'>,
  queue: string,
  maxAttempts: number,
  logger: Logger,
): Promise<DriftResult>;
export async function checkQueueDrift(
  first: DriftCheckOptions | Pick<CloudTasksClient, 'getQueue'>,
  queueArg?: string,
  maxAttemptsArg?: number,
  loggerArg?: Logger,
): Promise<DriftResult> {
  const options: DriftCheckOptions =
    'client' in first ? first : { client: first, queue: queueArg!, maxAttempts: maxAttemptsArg!, logger: loggerArg! };
  const { client, queue, maxAttempts, logger } = options;
  let queueMaxAttempts: number;
  try {
    const [found] = await client.getQueue({ name: queue }, { timeout: options.timeoutMs ?? 10_000 });
    // proto3 leaves an unset int32 at 0, which the API documents as "the default".
    queueMaxAttempts = Number(found?.retryConfig?.maxAttempts ?? 0);
  } catch (err) {
    const grpcCode = grpcCodeOf(err);
    const reason = err instanceof Error ? err.message : String(err);
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
