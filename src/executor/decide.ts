/**
 * The push path's rules in one pure function: given how the work ended, which attempt this was and
 * what this tier is configured with, what to do and what to answer Cloud Tasks. No I/O here, so the
 * whole rule set is tested as a table (test/executor/decide.test.ts).
 */
import type { RunOutcome, WorkError } from '../work/types.js';

/**
 * Status for a handled failure that should be retried: a 4xx that is neither 429 nor 5xx, so Cloud
 * Tasks counts the execution and retries with the queue's normal backoff, without throttling the
 * whole queue as it does for 429 and 503.
 */
export const RETRY_STATUS = 409;

/** What happened before deciding. */
export type DecideOutcome =
  | RunOutcome
  /** The body could not be decoded. */
  | { kind: 'undecodable'; error: WorkError };

/** What this tier can do with a job, from its configuration. */
export interface TierPolicy {
  /** This tier's attempt budget. */
  maxAttempts: number;
  /** A next tier is configured (`PROBLEM_QUEUE` + `PROBLEM_SERVICE`). */
  hasNext: boolean;
  /** A dead-letter queue is configured. */
  hasDeadLetter: boolean;
  /** A notifier queue is configured. */
  hasNotifier: boolean;
  /** A default webhook is configured (`NOTIFY_URL`). */
  hasDefaultWebhook: boolean;
  /** An outcome topic is configured (`NOTIFY_TOPIC`): every terminal outcome is published there. */
  hasTopic?: boolean;
}

/** Everything `decide` looks at. */
export interface DecideInput {
  outcome: DecideOutcome;
  /** 1-based attempt on this tier. */
  attempt: number;
  /** The job names its own webhook. */
  jobHasWebhook: boolean;
  policy: TierPolicy;
}

/** What to do with a delivery. Every action but `retry` and `reject` answers 2xx only once its enqueue (if any) succeeded. */
export type Action =
  /** Answer 2xx, create nothing. `unnotified` says why a notification that should exist does not (logged as an error). */
  | { kind: 'ack'; why: 'succeeded' | 'ignored' | 'failed-unnotified'; unnotified?: string }
  /** Answer {@link RETRY_STATUS}; Cloud Tasks retries. */
  | { kind: 'retry'; status: number; error: WorkError }
  /**
   * Notify, then answer 2xx: a notification task on the notifier queue (`via` absent), the outcome
   * message on NOTIFY_TOPIC (`topic`), or both (`both`; the task first, as it is the idempotent one).
   */
  | { kind: 'notify'; outcome: 'succeeded' | 'failed'; error?: WorkError; result?: unknown; via?: 'topic' | 'both' }
  /** Forward the original body to the next tier, then answer 2xx. */
  | { kind: 'forward'; error: WorkError }
  /** Put the raw body on the dead-letter queue (and, with `publish`, its outcome on NOTIFY_TOPIC), then answer 2xx. */
  | { kind: 'dead-letter'; error: WorkError; publish?: true }
  /** Answer 400: the body is undecodable and there is no dead-letter queue. */
  | { kind: 'reject'; status: 400; error: WorkError };

/**
 * Where a terminal outcome's notification goes: the webhook (through the notifier queue) when the
 * job or NOTIFY_URL names one and NOTIFIER_QUEUE is set, NOTIFY_TOPIC whenever it is set. Undefined
 * when neither; `unnotified` then says why.
 */
function notifyVia(input: DecideInput): { via: 'queue' | 'topic' | 'both' } | { unnotified: string } {
  const { policy } = input;
  const wantsWebhook = input.jobHasWebhook || policy.hasDefaultWebhook;
  const queue = wantsWebhook && policy.hasNotifier;
  if (policy.hasTopic === true) return { via: queue ? 'both' : 'topic' };
  if (queue) return { via: 'queue' };
  return { unnotified: wantsWebhook ? 'NOTIFIER_QUEUE is not configured' : 'the job names no webhook and NOTIFY_URL is unset' };
}

function notify(input: DecideInput, outcome: 'succeeded' | 'failed', extra: { error?: WorkError; result?: unknown }): Action {
  const where = notifyVia(input);
  if ('unnotified' in where) {
    const unnotified = outcome === 'failed' || input.jobHasWebhook || input.policy.hasDefaultWebhook ? where.unnotified : undefined;
    return { kind: 'ack', why: outcome === 'failed' ? 'failed-unnotified' : 'succeeded', ...(unnotified !== undefined ? { unnotified } : {}) };
  }
  return { kind: 'notify', outcome, ...extra, ...(where.via !== 'queue' ? { via: where.via } : {}) };
}

function failure(input: DecideInput, error: WorkError): Action {
  return notify(input, 'failed', { error });
}

/** Decides what to do with one delivery. Pure. */
export function decide(input: DecideInput): Action {
  const { outcome, attempt, policy } = input;
  switch (outcome.kind) {
    case 'undecodable':
      if (!policy.hasDeadLetter) return { kind: 'reject', status: 400, error: outcome.error };
      return { kind: 'dead-letter', error: outcome.error, ...(policy.hasTopic === true ? { publish: true as const } : {}) };
    case 'success':
      return notify(input, 'succeeded', outcome.result !== undefined ? { result: outcome.result } : {});
    case 'ignore':
      return { kind: 'ack', why: 'ignored' };
    case 'permanent':
      return failure(input, outcome.error);
    case 'retryable':
      // An attempt past the budget (answers such as 401 that Cloud Tasks counted as executions
      // without the work running) is treated as the last one: the work always runs before a handoff.
      if (attempt < policy.maxAttempts) return { kind: 'retry', status: RETRY_STATUS, error: outcome.error };
      return policy.hasNext ? { kind: 'forward', error: outcome.error } : failure(input, outcome.error);
  }
}
