import { describe, expect, it } from 'vitest';
import { RememberedNames } from '../../../src/emulator/engine/dedup.js';

describe('RememberedNames', () => {
  it('reserves a name for the window after release, then frees it', () => {
    const r = new RememberedNames(1000);
    r.remember('q/tasks/a', 0);
    expect(r.has('q/tasks/a', 999)).toBe(true);
    expect(r.has('q/tasks/a', 1000)).toBe(false);
  });

  it('restarts the window when a name is released again', () => {
    const r = new RememberedNames(1000);
    r.remember('a', 0);
    r.remember('a', 800);
    expect(r.has('a', 1500)).toBe(true);
  });

  it('prunes expired names as new ones arrive, so memory stays bounded by the window', () => {
    const r = new RememberedNames(10);
    for (let i = 0; i < 1000; i++) r.remember(`n${i}`, i);
    expect(r.size).toBeLessThanOrEqual(11);
  });

  it('forgets the names of one queue only', () => {
    const r = new RememberedNames(1000);
    r.remember('q1/tasks/a', 0);
    r.remember('q2/tasks/a', 0);
    r.forgetPrefix('q1/tasks/');
    expect(r.has('q1/tasks/a', 1)).toBe(false);
    expect(r.has('q2/tasks/a', 1)).toBe(true);
  });

  it('remembers nothing with a zero window', () => {
    const r = new RememberedNames(0);
    r.remember('a', 0);
    expect(r.has('a', 0)).toBe(false);
  });
});
