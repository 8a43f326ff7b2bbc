import { describe, expect, it } from 'vitest';
import { Heap } from '../../../src/emulator/engine/heap.js';

describe('Heap', () => {
  it('pops in ascending order whatever the insertion order', () => {
    const h = new Heap<number>((a, b) => a < b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 503);
    for (const v of values) h.push(v);
    const out: number[] = [];
    for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });

  it('peeks without removing and reports its size', () => {
    const h = new Heap<number>((a, b) => a < b);
    h.push(3);
    h.push(1);
    expect(h.peek()).toBe(1);
    expect(h.size).toBe(2);
    h.clear();
    expect(h.pop()).toBeUndefined();
  });
});
