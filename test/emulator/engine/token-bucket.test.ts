import { describe, expect, it } from 'vitest';
import { deriveBurstSize, TokenBucket } from '../../../src/emulator/engine/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then one token per 1/rate seconds', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(100); // next token in 100 ms at 10/s
    expect(b.take(50)).toBe(50);
    expect(b.take(100)).toBe(0);
  });

  it('refills up to the burst size and no further', () => {
    const b = new TokenBucket(100, 5, 0);
    for (let i = 0; i < 5; i++) b.take(0);
    expect(b.available(10_000)).toBe(5);
  });

  it('keeps earned tokens (up to the new burst) when reconfigured', () => {
    const b = new TokenBucket(1, 10, 0);
    b.configure(1, 2, 0);
    expect(b.available(0)).toBe(2);
    b.configure(1000, 50, 0);
    expect(b.take(0)).toBe(0);
  });

  it('never hands out a token when the rate is zero and the bucket is empty', () => {
    const b = new TokenBucket(0, 1, 0);
    expect(b.take(0)).toBe(0);
    expect(b.take(1_000_000)).toBe(Infinity);
  });
});

describe('deriveBurstSize', () => {
  it('gives 100 for the default 500/s and scales down with the rate, at least 1', () => {
    expect(deriveBurstSize(500)).toBe(100);
    expect(deriveBurstSize(50)).toBe(10);
    expect(deriveBurstSize(1)).toBe(1);
    expect(deriveBurstSize(0.1)).toBe(1);
  });
});
