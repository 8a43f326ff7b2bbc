/**
 * `npm run bench` — runs the benchmarks in bench/, one after the other, or only those named:
 *
 *   npm run bench                  every benchmark
 *   npm run bench -- executor      bench/executor.ts only
 *   npm run bench -- --list        the names
 *
 * The contract of a benchmark: a file `bench/<name>.ts` that exports
 *
 *   export async function run(): Promise<void>
 *
 * which runs the measurement, prints its own report to stdout (a `== name ==` heading, then one
 * line per figure with the target and whether it was met), cleans up everything it started, and
 * throws if it could not measure. Knobs are environment variables named BENCH_<NAME>_*, documented
 * at the top of each file. Benchmarks are not part of `npm test`: they report, they do not assert,
 * because figures from a shared machine are not fit for pass/fail.
 */
import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a benchmark module exports. */
interface BenchModule {
  run(): Promise<void>;
}

const HERE = import.meta.dirname;

async function benchNames(): Promise<string[]> {
  const files = await readdir(HERE);
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts' && !f.startsWith('_'))
    .map((f) => basename(f, '.ts'))
    .sort();
}

async function main(argv: string[]): Promise<void> {
  const available = await benchNames();
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--list')) {
    process.stdout.write(`Usage: npm run bench [-- NAME…]\n\nBenchmarks: ${available.join(', ')}\n`);
    return;
  }
  const unknown = argv.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no benchmark named ${unknown.map((n) => `'${n}'`).join(', ')}; available: ${available.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const selected = argv.length > 0 ? argv : available;
  const failed: string[] = [];
  for (const name of selected) {
    const started = Date.now();
    try {
      const mod = (await import(pathToFileURL(`${HERE}/${name}.ts`).href)) as Partial<BenchModule>;
      if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run(): see the contract at the top of bench/run.ts`);
      await mod.run();
      process.stdout.write(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`);
    } catch (err) {
      failed.push(name);
      process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n\n`);
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`bench: ${failed.length} of ${selected.length} failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main(process.argv.slice(2)).then(
  // A benchmark that leaked a handle must not keep the run from ending.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
