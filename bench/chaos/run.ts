/**
 * Runs chaos scenarios against one chain: for each, a batch of good and invalid jobs (20 % invalid,
 * as `executor dev`'s demo) submitted into tier 1's queue while the scenario's fault happens, then
 * waiting until every job is notified and the queues are empty, then judging what the webhook
 * accepted. The chain is started once and shared by the scenarios; each one's jobs have ids of
 * their own.
 */
import { randomBytes } from 'node:crypto';
import { expectedOutcomes, planBatch, submitBatch } from '../../src/local/batch.js';
import { LOCAL_SERVICE_ACCOUNT } from '../../src/local/defaults.js';
import { startChain, type Chain } from './chain.js';
import { SCENARIOS, type Scenario, type ScenarioContext } from './scenarios.js';
import { judge, type Verdict } from './verdict.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Jobs per scenario. */
  jobs: number;
  /** Scenario names, in order; all when empty. */
  scenarios: readonly string[];
  /** Short fault durations (the `npm test` form). */
  short: boolean;
  /** Where the processes' logs go. */
  logDir: string;
  /** Longest wait for one scenario to settle after its batch is submitted (ms). */
  settleTimeoutMs: number;
  /** Log level of the processes (default info: one line per delivery, to investigate from). */
  logLevel?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** The emulator's system throttling (default off). */
  throttling?: 'model' | 'off';
  /** The tiers' RETRY_AFTER_SECONDS (default 10). */
  retryAfterSeconds?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The invalid share of `executor dev`'s demo batch. */
const INVALID_RATIO = 0.2;

/** Runs the scenarios; resolves with one verdict each (a scenario that could not run carries `error`). */
export async function runChaos(options: ChaosOptions): Promise<Verdict[]> {
  const selected = options.scenarios.length === 0 ? SCENARIOS : options.scenarios.map((n) => SCENARIOS.find((s) => s.name === n)!);
  const say = options.progress ?? (() => undefined);
  say(`starting the chain (logs: ${options.logDir})`);
  const chain = await startChain({
    logDir: options.logDir,
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
    ...(options.throttling !== undefined ? { throttling: options.throttling } : {}),
    ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
  });
  const verdicts: Verdict[] = [];
  try {
    for (const scenario of selected) {
      say(`${scenario.name}: ${scenario.summary}`);
      const verdict = await runScenario(chain, scenario, options, say);
      say(`${scenario.name}: ${verdict.passed ? 'pass' : 'FAIL'} — lost ${verdict.lost}, duplicates ${verdict.duplicates}, wrong ${verdict.wrong}, left tier 1 ${verdict.leftTier1}`);
      verdicts.push(verdict);
      if (chain.crashed() !== undefined) break;
    }
  } finally {
    await chain.close();
  }
  return verdicts;
}

async function runScenario(chain: Chain, scenario: Scenario, options: ChaosOptions, say: (line: string) => void): Promise<Verdict> {
  const plan = planBatch(options.jobs, INVALID_RATIO, 'envelope', `${scenario.name}-${randomBytes(3).toString('hex')}`);
  const expected = expectedOutcomes(plan);
  let submitted = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const ctx: ScenarioContext = {
    chain,
    short: options.short,
    untilSubmitted: (fraction) =>
      new Promise<void>((resolve) => {
        const count = Math.ceil(plan.length * fraction);
        if (submitted >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    note: (message) => say(`  ${scenario.name}: ${message}`),
  };
  const started = Date.now();
  let error: string | undefined;
  try {
    await scenario.before?.(ctx);
    const submitting = submitBatch(
      chain.client,
      plan,
      {
        queue: chain.queue('tier1'),
        url: `${chain.tiers[0].url}/`,
        webhookUrl: chain.webhookUrl,
        serviceAccount: LOCAL_SERVICE_ACCOUNT,
        endpoint: { emulatorHost: chain.emulatorAddress },
        concurrency: 16,
      },
      (task) => {
        submitted++;
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (submitted >= waiters[i]!.count) waiters.splice(i, 1)[0]!.resolve();
        }
        scenario.onCreated?.(ctx, task);
      },
    );
    await Promise.all([submitting, scenario.during?.(ctx)]);
    error = await settle(chain, expected, options.settleTimeoutMs);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    for (const w of waiters.splice(0)) w.resolve();
    await scenario.after?.(ctx).catch(() => undefined);
  }
  // Only this scenario's jobs: the webhook records every run's.
  const accepted = new Map([...expected.keys()].flatMap((job) => (chain.accepted.has(job) ? [[job, chain.accepted.get(job)!] as const] : [])));
  const verdict = judge(scenario.name, expected, accepted, (Date.now() - started) / 1000);
  const crashed = chain.crashed();
  if (error !== undefined || crashed !== undefined) {
    verdict.error = crashed ?? error!;
    verdict.passed = false;
  }
  return verdict;
}

/**
 * Waits until every job has a notification and the work queues stayed empty for a second (so a
 * late duplicate still arrives before judging); returns why it stopped early, if it did.
 */
async function settle(chain: Chain, expected: ReadonlyMap<string, unknown>, timeoutMs: number): Promise<string | undefined> {
  const until = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  for (;;) {
    const crashed = chain.crashed();
    if (crashed !== undefined) return crashed;
    const allNotified = [...expected.keys()].every((job) => chain.accepted.has(job));
    const drained = await chain.drained().catch(() => false);
    if (allNotified && drained) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince >= 1000) return undefined;
    } else quietSince = undefined;
    if (Date.now() > until) return undefined; // judged as it stands: what is missing counts as lost
    await sleep(200);
  }
}
