// The chaos suite's judgement of what the webhook accepted (bench/chaos/verdict.ts).
import { describe, expect, it } from 'vitest';
import { formatVerdicts, judge, type Accepted } from '../../bench/chaos/verdict.js';

const ok = (task: string, tier = 1): Accepted => ({ task, outcome: 'succeeded', tier });
const failed = (task: string, tier = 2): Accepted => ({ task, outcome: 'failed', tier, errorType: 'Error' });

describe('judge', () => {
  const expected = new Map([
    ['good', 'succeeded'],
    ['bad', 'failed'],
  ] as const);

  it('passes one notification per job with the expected outcome, even redelivered', () => {
    const v = judge('s', expected, new Map([['good', [ok('n1'), ok('n1')]], ['bad', [failed('n2')]]]), 1);
    expect(v).toMatchObject({ jobs: 2, invalid: 1, lost: 0, duplicates: 0, wrong: 0, leftTier1: 0, notifications: 3, passed: true });
  });

  it('counts a job without a notification as lost', () => {
    const v = judge('s', expected, new Map([['good', [ok('n1')]]]), 1);
    expect(v).toMatchObject({ lost: 1, passed: false });
    expect(v.samples.lost).toEqual([{ job: 'bad', notifications: [] }]);
  });

  it('counts two distinct notification tasks, or contradictory outcomes, as a duplicate', () => {
    expect(judge('s', expected, new Map([['good', [ok('n1'), ok('n3')]], ['bad', [failed('n2')]]]), 1)).toMatchObject({ duplicates: 1, wrong: 0, passed: false });
    expect(judge('s', expected, new Map([['good', [ok('n1'), failed('n1', 1)]], ['bad', [failed('n2')]]]), 1)).toMatchObject({ duplicates: 1, wrong: 1 });
  });

  it('counts a good job notified failed, or an invalid one notified succeeded, as wrong', () => {
    const v = judge('s', expected, new Map([['good', [failed('n1', 1)]], ['bad', [ok('n2', 2)]]]), 1);
    expect(v).toMatchObject({ wrong: 2, duplicates: 0, passed: false });
  });

  it('counts a good job notified from tier 2 as having left tier 1', () => {
    expect(judge('s', expected, new Map([['good', [ok('n1', 2)]], ['bad', [failed('n2')]]]), 1)).toMatchObject({ leftTier1: 1, passed: false });
  });

  it('closes the table with the count of passed and failed scenarios', () => {
    const pass = judge('a', expected, new Map([['good', [ok('n1')]], ['bad', [failed('n2')]]]), 1);
    const fail = judge('b', expected, new Map(), 1);
    const text = formatVerdicts([pass, fail]);
    expect(text).toMatch(/\| a +\| 2 +\| 0 +\|/);
    expect(text.split('\n').at(-1)).toBe('1 passed, 1 failed');
  });
});
