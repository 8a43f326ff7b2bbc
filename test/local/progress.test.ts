import { describe, expect, it } from 'vitest';
import { expectedOutcomes, planBatch } from '../../src/local/batch.js';
import { makeMetrics } from '../../src/executor/metrics.js';
import { ProgressLine, formatProgress, readTierCounters } from '../../src/local/progress.js';

describe("reading an executor's metrics", () => {
  it('maps its registry to delivered, retried and forwarded, counting each handoff once', async () => {
    const m = makeMetrics({ defaultMetrics: false });
    m.deliveries.inc({ outcome: 'success', status: '204' }, 160);
    m.deliveries.inc({ outcome: 'retryable', status: '409' }, 80);
    m.deliveries.inc({ outcome: 'retryable', status: '200' }, 40);
    m.handoffs.inc({ kind: 'forward', result: 'created' }, 40);
    m.handoffs.inc({ kind: 'forward', result: 'exists' }, 1);
    m.handoffs.inc({ kind: 'notify-success', result: 'created' }, 160);
    m.handoffs.inc({ kind: 'notify-failure', result: 'failed' }, 2);
    m.authRejections.inc({ code: 'AUTH_MISSING' }, 3);
    expect(await readTierCounters(m)).toEqual({
      delivered: 280,
      retried: 80,
      forwarded: 40,
      notifiedSucceeded: 160,
      notifiedFailed: 0,
      authRejected: 3,
    });
  });
});

describe('the demo batch', () => {
  it('makes floor(jobs × ratio) jobs invalid, spread through the batch, with unique ids', () => {
    const plan = planBatch(200, 0.2, 'binary', 'run');
    expect(plan.filter((j) => j.invalid)).toHaveLength(40);
    expect(new Set(plan.map((j) => j.id)).size).toBe(200);
    expect(plan.slice(0, 10).filter((j) => j.invalid)).toHaveLength(2);
    expect(planBatch(10, 0, 'binary', 'r').some((j) => j.invalid)).toBe(false);
    expect(planBatch(10, 1, 'binary', 'r').every((j) => j.invalid)).toBe(true);
  });

  it('rotates the three encodings in mixed mode and expects invalid jobs to fail', () => {
    const plan = planBatch(6, 0.5, 'mixed', 'r');
    expect(plan.map((j) => j.encoding)).toEqual(['binary', 'json', 'envelope', 'binary', 'json', 'envelope']);
    const expected = expectedOutcomes(plan);
    expect([...expected.values()].filter((o) => o === 'failed')).toHaveLength(3);
  });
});

describe('the progress line', () => {
  const state = {
    submitted: 200,
    jobs: 200,
    tiers: [
      { delivered: 280, retried: 80, forwarded: 40, notifiedSucceeded: 160, notifiedFailed: 0, authRejected: 0 },
      { delivered: 120, retried: 80, forwarded: 0, notifiedSucceeded: 0, notifiedFailed: 40, authRejected: 0 },
    ],
    webhook: { notifications: 200, succeeded: 160, failed: 40, duplicates: 0, withoutId: 0, undecodable: 0, deadLetters: 0 },
    seconds: 4.25,
  };

  it('shows per tier delivered, retried, forwarded and the notifications', () => {
    expect(formatProgress(state)).toBe(
      'submitted 200/200 │ tier 1: 280 delivered, 80 retried, 40 forwarded │ tier 2: 120 delivered, 80 retried │ notified: 160 succeeded, 40 failed │ 4.3s',
    );
  });

  it('shows auth-rejected deliveries on the live line, per tier, as soon as there are any', () => {
    const rejected = { ...state, tiers: [{ ...state.tiers[0]!, authRejected: 7 }, state.tiers[1]!] };
    expect(formatProgress(rejected)).toBe(
      'submitted 200/200 │ tier 1: 280 delivered, 80 retried, 40 forwarded, 7 refused (auth) │ tier 2: 120 delivered, 80 retried │ notified: 160 succeeded, 40 failed │ 4.3s',
    );
  });

  it('drops the clock once the batch is done and flags duplicates', () => {
    const { seconds: _omit, ...done } = state;
    const line = formatProgress({ ...done, webhook: { ...state.webhook, duplicates: 2 } });
    expect(line.endsWith('notified: 160 succeeded, 40 failed, 2 duplicate')).toBe(true);
  });

  it('rewrites itself in place on a terminal and prints plain, throttled lines elsewhere', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 200, write: (s: string) => written.push(s) } as unknown as NodeJS.WritableStream;
    const line = new ProgressLine(tty);
    line.update('a');
    line.update('b');
    line.update('b');
    line.done();
    expect(written).toEqual(['\r\x1b[2Ka', '\r\x1b[2Kb', '\n']);

    const plain: string[] = [];
    const pipe = { write: (s: string) => plain.push(s) } as unknown as NodeJS.WritableStream;
    const p = new ProgressLine(pipe, 60_000);
    p.update('one');
    p.update('two');
    p.update('three', true);
    p.update('three', true);
    expect(plain).toEqual(['one\n', 'three\n']);
  });
});
