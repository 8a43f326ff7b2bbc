/**
 * `npm run chaos` — the whole chain as separate processes under faults, checking that every job
 * gets exactly one, right notification. Loopback only; bounded in jobs and time; stops by itself.
 *
 *   npm run chaos                                   every scenario, 1,500 jobs each
 *   npm run chaos -- --jobs 300 --scenario kill     one scenario, 300 jobs
 *   npm run chaos -- --short --json                 short fault windows, JSON verdicts on stdout
 *
 * Prints one row per scenario (jobs, lost, duplicates, wrong outcomes, good jobs that left tier 1)
 * and closes with `N passed, M failed`; exits 1 when any scenario failed.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './run.js';
import { SCENARIOS, SCENARIO_NAMES } from './scenarios.js';
import { formatVerdicts } from './verdict.js';

const USAGE = `Usage: npm run chaos -- [options]

Runs the chain (emulator, executor tier 1 and tier 2, a recording webhook) as separate processes
on 127.0.0.1 and checks, scenario by scenario, that each job gets exactly one right notification.

Options:
  --jobs N             jobs per scenario (default 1500; 20 % invalid)
  --scenario NAME      run only this scenario (repeatable): ${SCENARIO_NAMES.join(', ')}
  --short              short fault windows (the form npm test runs)
  --settle-timeout S   longest wait for a scenario to finish after its faults (default 180)
  --throttling MODE    the emulator's system throttling: off (default: the scenarios check
                       outcomes, not timing) or model (slower: 503s lower the enforced rate)
  --retry-after S      the tiers' RETRY_AFTER_SECONDS (default 10)
  --log-dir DIR        where the processes' logs go (default: a new directory under the OS temp dir)
  --json               print the verdicts as JSON on stdout (progress stays on stderr)
  -h, --help           show this help

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`).join('\n')}
`;

function fail(message: string): never {
  process.stderr.write(`chaos: ${message} (see npm run chaos -- --help)\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        jobs: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        short: { type: 'boolean' },
        'settle-timeout': { type: 'string' },
        throttling: { type: 'string' },
        'retry-after': { type: 'string' },
        'log-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const jobs = values.jobs === undefined ? 1500 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 100_000) fail(`--jobs must be an integer from 1 to 100000, got '${values.jobs}'`);
  const settle = values['settle-timeout'] === undefined ? 180 : Number(values['settle-timeout']);
  if (!Number.isFinite(settle) || settle <= 0) fail(`--settle-timeout must be a positive number of seconds, got '${values['settle-timeout']}'`);
  const throttling = values.throttling ?? 'off';
  if (throttling !== 'off' && throttling !== 'model') fail(`--throttling must be 'off' or 'model', got '${throttling}'`);
  const retryAfter = values['retry-after'] === undefined ? 10 : Number(values['retry-after']);
  if (!Number.isInteger(retryAfter) || retryAfter < 1 || retryAfter > 3600) fail(`--retry-after must be an integer from 1 to 3600, got '${values['retry-after']}'`);
  const scenarios = values.scenario ?? [];
  const unknown = scenarios.filter((s) => !SCENARIO_NAMES.includes(s));
  if (unknown.length > 0) fail(`unknown scenario ${unknown.map((s) => `'${s}'`).join(', ')}: choose from ${SCENARIO_NAMES.join(', ')}`);

  const logDir = values['log-dir'] ?? mkdtempSync(join(tmpdir(), 'executor-chaos-'));
  mkdirSync(logDir, { recursive: true });
  const verdicts = await runChaos({
    jobs,
    scenarios,
    short: values.short === true,
    logDir,
    settleTimeoutMs: settle * 1000,
    throttling,
    retryAfterSeconds: retryAfter,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const json = `${JSON.stringify({ logDir, verdicts }, null, 2)}\n`;
  // Kept beside the logs either way: the samples name the jobs to look for in them.
  writeFileSync(join(logDir, 'verdicts.json'), json);
  if (values.json === true) process.stdout.write(json);
  else process.stdout.write(`\n${formatVerdicts(verdicts)}\n(verdicts with sample jobs: ${join(logDir, 'verdicts.json')})\n`);
  const ranAll = verdicts.length === (scenarios.length === 0 ? SCENARIOS.length : scenarios.length);
  process.exitCode = ranAll && verdicts.every((v) => v.passed) ? 0 : 1;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
