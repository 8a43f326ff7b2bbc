/** Benchmark knobs from the environment (a helper module: bench/run.ts skips files starting with `_`). */

/** A positive integer from `process.env[name]`, or `fallback` when unset; throws on anything else. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}
