/**
 * The rule that keeps a spent budget's handoff retryable: a queue must allow more attempts than the
 * executor tier it feeds (or unlimited). The executor answers 503 when the handoff after its last
 * budgeted attempt fails and relies on the queue to deliver again; a queue whose max_attempts is
 * not greater than MAX_ATTEMPTS deletes the task instead (DESIGN.md, "Budget spent → handoff,
 * exactly once"). `executor serve` checks its live queue with it; `executor dev` its queues file.
 */

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
 * Pure comparison: is a queue's `retryConfig.maxAttempts` (as the API reports it; 0 or absent =
 * the default) enough for an executor whose budget is `maxAttempts`? Enough means unlimited (-1)
 * or strictly greater.
 */
export function assessQueueAttempts(queueMaxAttempts: number, maxAttempts: number): AttemptsVerdict {
  if (queueMaxAttempts === -1) return { ok: true, effective: 'unlimited' };
  const effective = queueMaxAttempts === 0 ? DEFAULT_QUEUE_MAX_ATTEMPTS : queueMaxAttempts;
  // Anything below -1 is not a value the API accepts; treat it as the worst case rather than "fine".
  if (effective < 0) return { ok: false, effective };
  return effective > maxAttempts ? { ok: true, effective } : { ok: false, effective };
}

/** The verdict of comparing a subscription's dead-letter policy with MAX_ATTEMPTS. */
export type SubscriptionAttemptsVerdict =
  | { ok: true; maxDeliveryAttempts: number }
  /** No dead-letter policy: Pub/Sub sends no deliveryAttempt, so every delivery looks like the first. */
  | { ok: false; reason: 'no-dead-letter-policy' }
  /** The policy dead-letters the message at or before the budget: a failed last handoff is not retried. */
  | { ok: false; reason: 'too-few-attempts'; maxDeliveryAttempts: number };

/**
 * Pure comparison for a Pub/Sub subscription: the budget can only be counted with a dead-letter
 * policy (`deliveryAttempt` exists only then), and its `maxDeliveryAttempts` must exceed
 * `maxAttempts` for the same reason a queue's max_attempts must: the delivery after a failed
 * handoff must still come.
 */
export function assessSubscriptionAttempts(maxDeliveryAttempts: number | undefined, maxAttempts: number): SubscriptionAttemptsVerdict {
  if (maxDeliveryAttempts === undefined) return { ok: false, reason: 'no-dead-letter-policy' };
  return maxDeliveryAttempts > maxAttempts ? { ok: true, maxDeliveryAttempts } : { ok: false, reason: 'too-few-attempts', maxDeliveryAttempts };
}
