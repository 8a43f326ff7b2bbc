// The chaos suite in short form (bench/chaos; `npm run chaos` is the full one): the whole chain as
// separate processes — emulator, executor tier 1 and tier 2, a recording webhook — under each
// fault, 200 jobs per scenario (20 % invalid). Every job must get exactly one notification, with
// the right outcome, and no good job may leave tier 1. Three chains run side by side so the
// scenarios fit in about a minute.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos/run.js';
import { SCENARIO_NAMES } from '../../bench/chaos/scenarios.js';
import type { Verdict } from '../../bench/chaos/verdict.js';

const JOBS = 200;
const GROUPS = [
  ['kill', 'duplicate', 'runtask'],
  ['cut', 'outage', 'flap'],
  ['ambiguous'],
] as const;

/** The figures that must all be zero, with samples when they are not (for the failure message). */
function problems(v: Verdict): Record<string, unknown> {
  return { scenario: v.scenario, lost: v.lost, duplicates: v.duplicates, wrong: v.wrong, leftTier1: v.leftTier1, error: v.error, samples: v.samples };
}

describe('chaos, short form: exactly one right outcome per job', () => {
  it('covers every scenario', () => {
    expect(GROUPS.flat().sort()).toEqual([...SCENARIO_NAMES].sort());
  });

  it.concurrent.each(GROUPS.map((g) => [g.join(', '), g] as const))(
    'loses, duplicates and misreports no job under %s',
    async (_name, scenarios) => {
      const logDir = mkdtempSync(join(tmpdir(), 'executor-chaos-test-'));
      // Warnings only: a line per delivery costs CPU the shared machine lacks; npm run chaos keeps them.
      // A 1 s Retry-After: the scenarios that answer 503 (cut, outage, ambiguous) wait out one per job.
      const verdicts = await runChaos({ jobs: JOBS, scenarios, short: true, logDir, logLevel: 'warn', settleTimeoutMs: 90_000, retryAfterSeconds: 1 });
      expect(verdicts.map((v) => v.scenario)).toEqual([...scenarios]);
      for (const v of verdicts) {
        expect(v.jobs).toBe(JOBS);
        expect(problems(v), `logs in ${logDir}`).toEqual({ ...problems(v), lost: 0, duplicates: 0, wrong: 0, leftTier1: 0, error: undefined });
      }
    },
    180_000,
  );
});
