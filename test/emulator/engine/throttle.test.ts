import { describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE, Throttle } from '../../../src/emulator/engine/throttle.js';

const T0 = 1_700_000_000_000;

describe('the throttling model', () => {
  it('halves the enforced rate on a 503, once per decrease interval however many answers arrive', () => {
    const t = new Throttle(100, 'model');
    expect(t.observe({ status: 503 }, T0)).toBe(true);
    expect(t.enforcedRate).toBe(50);
    // Answers to dispatches already in flight: the same signal, no further decrease.
    expect(t.observe({ status: 503 }, T0 + 10)).toBe(false);
    expect(t.observe({ status: 429 }, T0 + 999)).toBe(false);
    expect(t.enforcedRate).toBe(50);
    t.observe({ status: 429 }, T0 + 1000);
    expect(t.enforcedRate).toBe(25);
  });

  it('recovers by 2 % per success and never rises above the configured limit', () => {
    const t = new Throttle(100, 'model');
    t.observe({ status: 503 }, T0);
    t.observe({ status: 200 }, T0 + 1);
    expect(t.enforcedRate).toBeCloseTo(51, 10);
    for (let i = 0; i < 200; i++) t.observe({ status: 200 }, T0 + 2 + i);
    expect(t.enforcedRate).toBe(100);
  });

  it('never lowers the rate below its floor (1/s, or the configured limit when that is lower)', () => {
    const t = new Throttle(4, 'model');
    for (let i = 0; i < 10; i++) t.observe({ status: 503 }, T0 + i * 1000);
    expect(t.enforcedRate).toBe(1);
    const slow = new Throttle(0.5, 'model');
    slow.observe({ status: 503 }, T0);
    expect(slow.enforcedRate).toBe(0.5);
  });

  it('does not throttle on 409 answers while their share stays at or below the threshold', () => {
    const t = new Throttle(100, 'model');
    // 1 in 4 answers is a 409: 25 % < 30 %.
    for (let i = 0; i < 400; i++) t.observe({ status: i % 4 === 0 ? 409 : 200 }, T0 + i * 10);
    expect(t.enforcedRate).toBe(100);
    expect(t.state(T0 + 4000).errorShare).toBeCloseTo(0.25, 2);
  });

  it('throttles when the error share over the window passes the threshold, and recovers once it falls', () => {
    const t = new Throttle(100, 'model');
    // Half the answers fail (409 or no answer) for 5 s.
    for (let i = 0; i < 500; i++) t.observe({ status: i % 2 === 0 ? 409 : 200 }, T0 + i * 10);
    expect(t.enforcedRate).toBeLessThan(100 * DEFAULT_THROTTLE.decreaseFactor ** 3);
    // Then everything succeeds: once the failures leave the 10 s window the rate climbs back.
    for (let i = 0; i < 2000; i++) t.observe({ status: 200 }, T0 + 5000 + i * 10);
    expect(t.enforcedRate).toBe(100);
    expect(t.state(T0 + 25_000).errorShare).toBe(0);
  });

  it('ignores the error share until the window holds minSamples outcomes', () => {
    const t = new Throttle(100, 'model');
    for (let i = 0; i < DEFAULT_THROTTLE.minSamples - 1; i++) t.observe({ status: 409 }, T0 + i);
    expect(t.enforcedRate).toBe(100);
    t.observe({ status: 409 }, T0 + 100);
    expect(t.enforcedRate).toBe(50);
  });

  it('holds the queue for a Retry-After on 429/503, capped at maxHoldMs, and not for other statuses', () => {
    const t = new Throttle(100, 'model');
    t.observe({ status: 503, retryAfterMs: 2000 }, T0);
    expect(t.holdUntil(T0 + 1999)).toBe(T0 + 2000);
    expect(t.holdUntil(T0 + 2000)).toBe(0);
    t.observe({ status: 429, retryAfterMs: 3_600_000 }, T0 + 5000);
    expect(t.holdUntil(T0 + 5001)).toBe(T0 + 5000 + DEFAULT_THROTTLE.maxHoldMs);
    const other = new Throttle(100, 'model');
    other.observe({ status: 500, retryAfterMs: 2000 }, T0);
    expect(other.holdUntil(T0 + 1)).toBe(0);
  });

  it('does nothing when switched off', () => {
    const t = new Throttle(100, 'off');
    for (let i = 0; i < 100; i++) expect(t.observe({ status: 503, retryAfterMs: 5000 }, T0 + i * 1000)).toBe(false);
    expect(t.enforcedRate).toBe(100);
    expect(t.holdUntil(T0 + 1)).toBe(0);
  });

  it('keeps the enforced rate under a lowered configured limit (UpdateQueue)', () => {
    const t = new Throttle(100, 'model');
    t.setMaxRate(10);
    expect(t.enforcedRate).toBe(10);
    for (let i = 0; i < 100; i++) t.observe({ status: 200 }, T0 + i);
    expect(t.enforcedRate).toBe(10);
  });
});
