/**
 * What a chaos scenario concludes from the notifications the webhook accepted: pure, so the rules
 * of "exactly one right outcome per job" are read in one place.
 */
import type { Outcome } from '../../src/local/tally.js';

/** One accepted notification. */
export interface Accepted {
  /** The notification task's name (X-CloudTasks-TaskName); redeliveries of one task share it. */
  task: string;
  outcome: Outcome;
  /** Tier that sent it, when the notification says. */
  tier?: number;
  /** Attempts across tiers, when said. */
  attempts?: number;
  /** The failure's type, for failed outcomes. */
  errorType?: string;
}

/** A scenario's figures. */
export interface Verdict {
  scenario: string;
  jobs: number;
  /** Invalid jobs among them (they must fail, on the last tier). */
  invalid: number;
  /** Jobs without any accepted notification. */
  lost: number;
  /** Jobs with more than one distinct notification task, or contradictory outcomes. */
  duplicates: number;
  /** Good jobs notified failed, invalid jobs notified succeeded. */
  wrong: number;
  /** Good jobs whose notification came from a tier other than 1. */
  leftTier1: number;
  /** Notifications accepted in all (redeliveries of one task included). */
  notifications: number;
  /** Seconds from the first submission to the end. */
  seconds: number;
  /** Whether the scenario held: nothing lost, duplicated or wrong, and no good job left tier 1. */
  passed: boolean;
  /** A few jobs per problem, with what arrived for them, to investigate from the logs. */
  samples: Record<'lost' | 'duplicates' | 'wrong' | 'leftTier1', { job: string; notifications: Accepted[] }[]>;
  /** Why the run could not finish normally (submission failed, a process died), when it did not. */
  error?: string;
}

const SAMPLES = 5;

/** Judges the accepted notifications of one scenario against the outcomes its jobs must have. */
export function judge(
  scenario: string,
  expected: ReadonlyMap<string, Outcome>,
  accepted: ReadonlyMap<string, readonly Accepted[]>,
  seconds: number,
): Verdict {
  const v: Verdict = {
    scenario,
    jobs: expected.size,
    invalid: 0,
    lost: 0,
    duplicates: 0,
    wrong: 0,
    leftTier1: 0,
    notifications: 0,
    seconds: Math.round(seconds * 10) / 10,
    passed: false,
    samples: { lost: [], duplicates: [], wrong: [], leftTier1: [] },
  };
  const sample = (kind: keyof Verdict['samples'], job: string, notifications: readonly Accepted[]): void => {
    if (v.samples[kind].length < SAMPLES) v.samples[kind].push({ job, notifications: [...notifications] });
  };
  for (const [job, want] of expected) {
    if (want === 'failed') v.invalid++;
    const got = accepted.get(job) ?? [];
    v.notifications += got.length;
    if (got.length === 0) {
      v.lost++;
      sample('lost', job, got);
      continue;
    }
    const tasks = new Set(got.map((n) => n.task));
    const outcomes = new Set(got.map((n) => n.outcome));
    if (tasks.size > 1 || outcomes.size > 1) {
      v.duplicates++;
      sample('duplicates', job, got);
    }
    if (got.some((n) => n.outcome !== want)) {
      v.wrong++;
      sample('wrong', job, got);
    }
    if (want === 'succeeded' && got.some((n) => n.tier !== undefined && n.tier !== 1)) {
      v.leftTier1++;
      sample('leftTier1', job, got);
    }
  }
  v.passed = v.lost === 0 && v.duplicates === 0 && v.wrong === 0 && v.leftTier1 === 0;
  return v;
}

/** The table of verdicts, one row per scenario, and the closing `N passed, M failed` line. */
export function formatVerdicts(verdicts: readonly Verdict[]): string {
  const head = ['scenario', 'jobs', 'lost', 'duplicates', 'wrong', 'left tier 1', 'seconds', 'result'];
  const rows = verdicts.map((v) => [
    v.scenario,
    String(v.jobs),
    String(v.lost),
    String(v.duplicates),
    String(v.wrong),
    String(v.leftTier1),
    v.seconds.toFixed(1),
    v.passed ? 'pass' : v.error !== undefined ? `FAIL (${v.error})` : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const passed = verdicts.filter((v) => v.passed).length;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), '', `${passed} passed, ${verdicts.length - passed} failed`].join('\n');
}
