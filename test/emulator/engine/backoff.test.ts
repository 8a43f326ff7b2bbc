import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retriesExhausted, retryDelayMs, throttledDelayMs } from '../../../src/emulator/engine/backoff.js';

const seconds = (ms: number): number => ms / 1000;

describe('retryDelayMs', () => {
  it('doubles maxDoublings times, then grows linearly, then stays at maxBackoff (the documented example)', () => {
    const retry = { minBackoffMs: 10_000, maxBackoffMs: 300_000, maxDoublings: 3 };
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => seconds(retryDelayMs(k, retry)))).toEqual([10, 20, 40, 80, 160, 240, 300, 300]);
  });

  it.each([
    // [k, min ms, max ms, doublings, expected ms]
    [0, 100, 3_600_000, 16, 100],
    [1, 100, 3_600_000, 16, 200],
    [16, 100, 1e12, 16, 100 * 2 ** 16],
    [17, 100, 1e12, 16, 100 * 2 ** 16 * 2],
    [16, 100, 3_600_000, 16, 3_600_000],
    [5, 100, 1000, 0, 600],
    [0, 100, 1000, 0, 100],
    [2, 100, 1000, 1, 400],
    [3, 100, 1000, 1, 600],
    [9, 100, 1000, 1, 1000],
  ])('retry %i with min %i ms, max %i ms, %i doublings waits %i ms', (k, min, max, d, expected) => {
    expect(retryDelayMs(k, { minBackoffMs: min, maxBackoffMs: max, maxDoublings: d })).toBe(expected);
  });

  it('keeps sub-second backoffs exact', () => {
    expect(retryDelayMs(0, { minBackoffMs: 50, maxBackoffMs: 200, maxDoublings: 16 })).toBe(50);
    expect(retryDelayMs(3, { minBackoffMs: 50, maxBackoffMs: 200, maxDoublings: 16 })).toBe(200);
  });
});

describe('retriesExhausted', () => {
  it('stops at maxAttempts when no maxRetryDuration is set', () => {
    const retry = { maxAttempts: 3, maxRetryDurationMs: 0 };
    expect(retriesExhausted(retry, 2, 1e9)).toBe(false);
    expect(retriesExhausted(retry, 3, 0)).toBe(true);
  });

  it('never stops with unlimited attempts and no duration limit', () => {
    expect(retriesExhausted({ maxAttempts: -1, maxRetryDurationMs: 0 }, 10_000, 1e12)).toBe(false);
  });

  it('stops only once both limits are reached when both are set', () => {
    const retry = { maxAttempts: 3, maxRetryDurationMs: 1000 };
    expect(retriesExhausted(retry, 5, 999)).toBe(false);
    expect(retriesExhausted(retry, 2, 5000)).toBe(false);
    expect(retriesExhausted(retry, 3, 1000)).toBe(true);
  });

  it('stops on the age limit alone when attempts are unlimited', () => {
    const retry = { maxAttempts: -1, maxRetryDurationMs: 1000 };
    expect(retriesExhausted(retry, 50, 999)).toBe(false);
    expect(retriesExhausted(retry, 2, 1000)).toBe(true);
  });
});

describe('throttled retries (429 / 503)', () => {
  it('backs off twice as hard, capped by maxBackoff', () => {
    expect(throttledDelayMs(100, 10_000, undefined)).toBe(200);
    expect(throttledDelayMs(8000, 10_000, undefined)).toBe(10_000);
  });

  it('waits for Retry-After when the target asks for longer, even beyond maxBackoff', () => {
    expect(throttledDelayMs(100, 1000, 5000)).toBe(5000);
    expect(throttledDelayMs(400, 1000, 10)).toBe(800);
  });

  it('parses Retry-After as delta seconds or an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
