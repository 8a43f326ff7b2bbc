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
  /** Create a notification task, then answer 2xx. */
  | { kind: 'notify'; outcome: 'succeeded' | 'failed'; error?: WorkError; result?: unknown }
  /** Forward the original body to the next tier, then answer 2xx. */
  | { kind: 'forward'; error: WorkError }
  /** Put the raw body on the dead-letter queue, then answer 2xx. */
  | { kind: 'dead-letter'; error: WorkError }
  /** Answer 400: the body is undecodable and there is no dead-letter queue. */
  | { kind: 'reject'; status: 400; error: WorkError };

function failure(input: DecideInput, error: WorkError): Action {
  const { policy } = input;
  if (!input.jobHasWebhook && !policy.hasDefaultWebhook) {
    return { kind: 'ack', why: 'failed-unnotified', unnotified: 'the job names no webhook and NOTIFY_URL is unset' };
  }
  if (!policy.hasNotifier) return { kind: 'ack', why: 'failed-unnotified', unnotified: 'NOTIFIER_QUEUE is not configured' };
  return { kind: 'notify', outcome: 'failed', error };
}

/** Decides what to do with one delivery. Pure. */
export function decide(input: DecideInput): Action {
  const { outcome, attempt, policy } = input;
  switch (outcome.kind) {
    case 'undecodable':
      return policy.hasDeadLetter ? { kind: 'dead-letter', error: outcome.error } : { kind: 'reject', status: 400, error: outcome.error };
    case 'success': {
      const wantsNotice = input.jobHasWebhook || policy.hasDefaultWebhook;
      if (!wantsNotice) return { kind: 'ack', why: 'succeeded' };
      if (!policy.hasNotifier) return { kind: 'ack', why: 'succeeded', unnotified: 'NOTIFIER_QUEUE is not configured' };
      return { kind: 'notify', outcome: 'succeeded', ...(outcome.result !== undefined ? { result: outcome.result } : {}) };
    }
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
