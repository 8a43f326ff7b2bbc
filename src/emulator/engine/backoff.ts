import type { RetryConfig } from '../model.js';

/**
 * Delay before retry `k` (0-based: k = 0 is the wait after the first failed attempt), as Cloud Tasks
 * computes it: the backoff doubles `maxDoublings` times, then grows linearly by the last doubled
 * step, and never exceeds `maxBackoff`.
 *   min 10s, max 300s, d 3 → 10, 20, 40, 80, 160, 240, 300, 300 s
 */
export function retryDelayMs(k: number, retry: Pick<RetryConfig, 'minBackoffMs' | 'maxBackoffMs' | 'maxDoublings'>): number {
  const d = retry.maxDoublings;
  const raw = k <= d ? retry.minBackoffMs * 2 ** k : retry.minBackoffMs * 2 ** d * (k - d + 1);
  return Math.min(retry.maxBackoffMs, raw);
}

/**
 * Whether a task that just failed its `dispatchCount`-th attempt is given up. `maxAttempts` -1 means
 * no attempt limit; `maxRetryDuration` 0 means no age limit. When both limits are set the task is
 * retried until BOTH are reached (production's rule); when only one is set, until that one is.
 */
export function retriesExhausted(
  retry: Pick<RetryConfig, 'maxAttempts' | 'maxRetryDurationMs'>,
  dispatchCount: number,
  msSinceFirstAttempt: number,
): boolean {
  const attemptsLimited = retry.maxAttempts !== -1;
  const durationLimited = retry.maxRetryDurationMs > 0;
  if (!attemptsLimited && !durationLimited) return false;
  const attemptsReached = !attemptsLimited || dispatchCount >= retry.maxAttempts;
  const durationReached = !durationLimited || msSinceFirstAttempt >= retry.maxRetryDurationMs;
  return attemptsReached && durationReached;
}

/**
 * Delay after a 429 or 503 answer: Cloud Tasks backs off harder on these (here: twice the normal
 * delay, still capped by maxBackoff) and honours the target's Retry-After when it asks for longer.
 */
export function throttledDelayMs(normalDelayMs: number, maxBackoffMs: number, retryAfterMs: number | undefined): number {
  const harder = Math.min(maxBackoffMs, normalDelayMs * 2);
  return retryAfterMs !== undefined && retryAfterMs > harder ? retryAfterMs : harder;
}

/**
 * Parses a Retry-After header value (delta seconds or an HTTP date) into milliseconds from `now`;
 * undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
