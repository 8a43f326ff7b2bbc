import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { describeArgsError } from '../suggest.js';
import { formatSvg, formatTable } from './report.js';
import { simulate } from './run.js';
import { loadScenario } from './scenario.js';

const USAGE = `Usage: executor simulate SCENARIO.yaml [options]

Replays a scenario (arrivals, poison and flaky jobs, work latency, tier configurations) on the
emulator's engine with a virtual clock and the executor's real decide, and compares the
configurations: goodput, latency, attempt amplification, poison, waiting tasks, cost.
See examples/storm.yaml and the README ("Why tiers").

Options:
  --json          print the results as JSON (with the time series) instead of a table
  --svg FILE      write a chart of goodput and latency over time to FILE
  -h, --help      show this help
`;

/** Parsed command line of `executor simulate`. */
export interface SimulateCliOptions {
  scenario?: string;
  json: boolean;
  svg?: string;
  help: boolean;
}

/** Parses the flags of `executor simulate`; throws a ConfigError naming every problem. */
export function parseSimulateArgs(argv: string[]): SimulateCliOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: { json: { type: 'boolean' }; svg: { type: 'string' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { json: { type: 'boolean' }, svg: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new ConfigError('SIMULATE_ARGS_INVALID', [`${describeArgsError(err, ['json', 'svg', 'help'])} (see 'executor simulate --help')`], 'Invalid arguments');
  }
  const { values, positionals } = parsed;
  const out: SimulateCliOptions = { json: values.json === true, help: values.help === true };
  if (values.svg !== undefined) out.svg = values.svg;
  if (positionals.length > 1) throw new ConfigError('SIMULATE_ARGS_INVALID', [`expected one scenario file, got ${positionals.length}: ${positionals.join(' ')}`], 'Invalid arguments');
  if (positionals[0] !== undefined) out.scenario = positionals[0];
  else if (!out.help) throw new ConfigError('SIMULATE_ARGS_INVALID', ['a scenario file is required, e.g. executor simulate examples/storm.yaml'], 'Invalid arguments');
  return out;
}

/** `executor simulate`: runs every configuration, with progress on stderr, then prints the figures. */
export async function runSimulateCli(argv: string[]): Promise<void> {
  const options = parseSimulateArgs(argv);
  if (options.help || options.scenario === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const scenario = loadScenario(options.scenario);
  const tty = process.stderr.isTTY;
  let lastShown = 0;
  const results = simulate(scenario, (config, simMs, totalMs) => {
    const now = performance.now();
    if (simMs < totalMs && now - lastShown < 250) return;
    lastShown = now;
    const line = `simulating ${config}: ${((simMs / totalMs) * 100).toFixed(0)} % of ${(totalMs / 60_000).toFixed(0)} simulated minutes`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${simMs >= totalMs ? '\n' : ''}`);
    else if (simMs >= totalMs) process.stderr.write(`${line}\n`);
  });
  if (options.svg !== undefined) {
    writeFileSync(options.svg, formatSvg(results, `executor simulate ${options.scenario}`));
  }
  process.stdout.write(options.json ? `${JSON.stringify({ results }, null, 2)}\n` : `${formatTable(results)}\n`);
  await Promise.resolve();
}
