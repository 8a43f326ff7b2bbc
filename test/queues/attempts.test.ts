import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_MAX_ATTEMPTS, assessQueueAttempts } from '../../src/queues/attempts.js';

describe('assessQueueAttempts', () => {
  it.each([
    // queue max_attempts, MAX_ATTEMPTS, ok, effective
    [-1, 5, true, 'unlimited'],
    [-1, 1, true, 'unlimited'],
    [6, 5, true, 6],
    [15, 5, true, 15],
    [5, 5, false, 5],
    [3, 5, false, 3],
    [1, 1, false, 1],
    [2, 1, true, 2],
    [0, 5, true, DEFAULT_QUEUE_MAX_ATTEMPTS],
    [0, 99, true, DEFAULT_QUEUE_MAX_ATTEMPTS],
    [0, 100, false, DEFAULT_QUEUE_MAX_ATTEMPTS],
    [0, 150, false, DEFAULT_QUEUE_MAX_ATTEMPTS],
    [-2, 5, false, -2],
  ] as const)('queue max_attempts %i with MAX_ATTEMPTS %i → ok=%s (effective %s)', (queueMax, budget, ok, effective) => {
    expect(assessQueueAttempts(queueMax, budget)).toEqual({ ok, effective });
  });
});
