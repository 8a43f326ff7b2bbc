/**
 * The scenario file of `executor simulate`: traffic, jobs, work latency and the configurations to
 * compare, validated with zod so every problem is reported at once with its path. Tier queues use
 * the emulator's queues-file fields and pass through the same validation.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_THROTTLE, type ThrottleParams, type ThrottlingMode } from '../emulator/engine/throttle.js';
import { durationField, durationToMs, loadQueuesFile, type ResolvedQueue } from '../emulator/queues-file.js';
import { ConfigError } from '../errors.js';

/** How long one run of the work takes. */
export type LatencyModel =
  | { kind: 'fixed'; ms: number }
  | { kind: 'exponential'; meanMs: number }
  /** Log-normal fitted to a median and a 99th percentile. */
  | { kind: 'lognormal'; medianMs: number; p99Ms: number };

/** One executor tier: its queue and its executor service. */
export interface TierSpec {
  /** Queue settings (validated like a queues file entry), with its throttling mode. */
  queue: ResolvedQueue;
  /** The tier's attempt budget (`MAX_ATTEMPTS`). */
  maxAttempts: number;
  /** Requests one instance serves at once (Cloud Run concurrency). */
  concurrency: number;
  /** Instances (Cloud Run max instances); beyond concurrency × instances requests get 429. */
  instances: number;
}

/** Which tasks fail, and how. */
export interface JobMix {
  /** Share of tasks that always fail. */
  poisonShare: number;
  /** Share of tasks that fail each attempt with `flakyFailProbability`. */
  flakyShare: number;
  flakyFailProbability: number;
  /** Share of tasks that depend on something down between `outageFromMs` and `outageToMs`. */
  outageShare: number;
  outageFromMs: number;
  outageToMs: number;
}

/** One configuration to simulate. */
export interface ConfigurationSpec {
  name: string;
  tiers: TierSpec[];
  /** The scenario's jobs, or this configuration's own. */
  jobs: JobMix;
  /** The reference run: the same arrival stream with its poison tasks left out. */
  clean: boolean;
}

/** A validated scenario. */
export interface Scenario {
  /** How long tasks arrive, ms. */
  durationMs: number;
  /** Extra simulated time after the last arrival, ms. */
  drainMs: number;
  /** Width of one reporting interval, ms. */
  intervalMs: number;
  /** Tasks per second (Poisson arrivals). */
  ratePerSecond: number;
  /** Seed of the pseudo-random generator (the same seed gives the same run). */
  seed: number;
  latency: LatencyModel;
  /** Parameters of the emulator's throttling model (defaults: DEFAULT_THROTTLE). */
  throttle: Readonly<ThrottleParams>;
  /** Price of a million dispatches (Cloud Tasks operations), in the currency of the estimate. */
  costPerMillionDispatches: number;
  /** Price of one busy instance-second. */
  costPerInstanceSecond: number;
  configurations: ConfigurationSpec[];
}

const share = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
// zod runs refinements even when the union already failed: only judge well-formed durations.
const positiveDuration = durationField.refine((v) => !durationField.safeParse(v).success || durationToMs(v) > 0, 'must be longer than 0');

const latencySchema = z.union([
  z.strictObject({ fixed: positiveDuration }),
  z.strictObject({ exponential: z.strictObject({ mean: positiveDuration }) }),
  z.strictObject({ lognormal: z.strictObject({ median: positiveDuration, p99: positiveDuration }) }),
]);

const tierSchema = z.strictObject({
  queue: z.record(z.string(), z.unknown()).default({}),
  executor: z.strictObject({
    maxAttempts: z.number().int('must be an integer').positive('must be a positive integer'),
    concurrency: z.number().int('must be an integer').positive('must be a positive integer').default(80),
    instances: z.number().int('must be an integer').positive('must be a positive integer').default(100),
  }),
});

const jobsSchema = z.strictObject({
  poison: share.default(0),
  flaky: z.strictObject({ share, failProbability: share }).optional(),
  outage: z.strictObject({ share, from: durationField, to: durationField }).optional(),
});

const configurationSchema = z.union([
  z.strictObject({ name: z.string().min(1, 'is required'), tiers: z.array(tierSchema).min(1, 'needs at least one tier'), jobs: jobsSchema.optional(), clean: z.boolean().default(false) }),
  z.strictObject({ name: z.string().min(1, 'is required'), singleQueueOf: z.string().min(1, 'names a configuration'), jobs: jobsSchema.optional(), clean: z.boolean().default(false) }),
]);

const positive = z.number().positive('must be > 0');
const throttleSchema = z.strictObject({
  decreaseFactor: positive.max(1, 'must be at most 1').optional(),
  decreaseInterval: durationField.optional(),
  window: positiveDuration.optional(),
  errorShareThreshold: share.optional(),
  minSamples: z.number().int('must be an integer').nonnegative('must be >= 0').optional(),
  increasePerSuccess: z.number().nonnegative('must be >= 0').optional(),
  minRatePerSecond: positive.optional(),
  maxHold: durationField.optional(),
});

const scenarioSchema = z.strictObject({
  duration: positiveDuration,
  drain: durationField.default(0),
  interval: positiveDuration.optional(),
  arrivals: z.strictObject({ ratePerSecond: z.number().positive('must be > 0').max(100_000, 'must be at most 100000') }),
  seed: z.number().int('must be an integer').default(1),
  jobs: jobsSchema.default({ poison: 0 }),
  throttle: throttleSchema.default({}),
  work: z.strictObject({ latency: latencySchema }),
  cost: z
    .strictObject({
      perMillionDispatches: z.number().nonnegative('must be >= 0').default(0.4),
      perInstanceSecond: z.number().nonnegative('must be >= 0').default(0.000024),
    })
    .default({ perMillionDispatches: 0.4, perInstanceSecond: 0.000024 }),
  configurations: z.array(configurationSchema).min(1, 'needs at least one configuration'),
});

type RawScenario = z.infer<typeof scenarioSchema>;
type RawTier = z.infer<typeof tierSchema>;

/** Reads and validates a scenario (a path to YAML, `{ text }`, or parsed content). */
export function loadScenario(source: unknown): Scenario {
  let raw: unknown = source;
  let origin = 'scenario';
  if (typeof source === 'string') {
    origin = `scenario ${source}`;
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw invalid(origin, [`cannot read ${source}: ${(err as Error).message}`]);
    }
    raw = parseText(text, origin);
  } else if (source !== null && typeof source === 'object' && 'text' in source && typeof source.text === 'string') {
    raw = parseText(source.text, origin);
  }
  const parsed = scenarioSchema.safeParse(raw ?? {});
  if (!parsed.success) throw invalid(origin, parsed.error.issues.map((i) => describeIssue(i)));
  return resolve(parsed.data, origin);
}

function resolve(s: RawScenario, origin: string): Scenario {
  const problems: string[] = [];
  const durationMs = durationToMs(s.duration);
  const defaultJobs = jobMix(s.jobs, 'jobs', problems);
  const latency = latencyModel(s.work.latency);
  if (latency.kind === 'lognormal' && latency.p99Ms < latency.medianMs) problems.push('work.latency.lognormal: p99 must not be below median');

  const byName = new Map<string, ConfigurationSpec>();
  s.configurations.forEach((c, i) => {
    if (byName.has(c.name)) problems.push(`configurations[${i}].name: '${c.name}' is used twice`);
    const jobs = c.jobs ? jobMix(c.jobs, `configurations[${i}].jobs`, problems) : defaultJobs;
    if ('tiers' in c) byName.set(c.name, { name: c.name, jobs, clean: c.clean, tiers: c.tiers.map((t, j) => tier(t, `configurations[${i}].tiers[${j}]`, `${slug(c.name)}-${j + 1}`, problems)) });
  });
  const configurations: ConfigurationSpec[] = [];
  s.configurations.forEach((c, i) => {
    if ('tiers' in c) {
      configurations.push(byName.get(c.name)!);
      return;
    }
    const of = byName.get(c.singleQueueOf);
    if (of === undefined) {
      problems.push(`configurations[${i}].singleQueueOf: no configuration with tiers is named '${c.singleQueueOf}'`);
      return;
    }
    // The baseline: the first tier's queue and executor, with the whole chain's attempt budget.
    const first = of.tiers[0]!;
    const budget = of.tiers.reduce((sum, t) => sum + t.maxAttempts, 0);
    const name = `projects/sim/locations/local/queues/${slug(c.name)}-1`;
    const jobs = c.jobs ? jobMix(c.jobs, `configurations[${i}].jobs`, []) : defaultJobs;
    configurations.push({ name: c.name, jobs, clean: c.clean, tiers: [{ ...first, maxAttempts: budget, queue: { ...first.queue, input: { ...first.queue.input, name } } }] });
  });
  if (problems.length > 0) throw invalid(origin, problems);
  const intervalMs = s.interval !== undefined ? durationToMs(s.interval) : Math.max(1000, Math.round(durationToMs(s.duration) / 60));
  return {
    durationMs,
    drainMs: durationToMs(s.drain),
    intervalMs,
    ratePerSecond: s.arrivals.ratePerSecond,
    seed: s.seed,
    latency,
    throttle: throttleParams(s.throttle),
    costPerMillionDispatches: s.cost.perMillionDispatches,
    costPerInstanceSecond: s.cost.perInstanceSecond,
    configurations,
  };
}

function jobMix(j: z.infer<typeof jobsSchema>, label: string, problems: string[]): JobMix {
  const shares = j.poison + (j.flaky?.share ?? 0) + (j.outage?.share ?? 0);
  if (shares > 1) problems.push(`${label}: the shares of poison, flaky and outage tasks add up to ${shares}, more than 1`);
  const outageFromMs = j.outage ? durationToMs(j.outage.from) : 0;
  const outageToMs = j.outage ? durationToMs(j.outage.to) : 0;
  if (outageToMs < outageFromMs) problems.push(`${label}.outage: to must not be before from`);
  return {
    poisonShare: j.poison,
    flakyShare: j.flaky?.share ?? 0,
    flakyFailProbability: j.flaky?.failProbability ?? 0,
    outageShare: j.outage?.share ?? 0,
    outageFromMs,
    outageToMs,
  };
}

function throttleParams(t: z.infer<typeof throttleSchema>): Readonly<ThrottleParams> {
  const p: ThrottleParams = { ...DEFAULT_THROTTLE };
  if (t.decreaseFactor !== undefined) p.decreaseFactor = t.decreaseFactor;
  if (t.decreaseInterval !== undefined) p.decreaseIntervalMs = durationToMs(t.decreaseInterval);
  if (t.window !== undefined) p.windowMs = durationToMs(t.window);
  if (t.errorShareThreshold !== undefined) p.errorShareThreshold = t.errorShareThreshold;
  if (t.minSamples !== undefined) p.minSamples = t.minSamples;
  if (t.increasePerSuccess !== undefined) p.increasePerSuccess = t.increasePerSuccess;
  if (t.minRatePerSecond !== undefined) p.minRatePerSecond = t.minRatePerSecond;
  if (t.maxHold !== undefined) p.maxHoldMs = durationToMs(t.maxHold);
  return p;
}

function tier(t: RawTier, label: string, queueId: string, problems: string[]): TierSpec {
  let queue: ResolvedQueue = { parent: 'projects/sim/locations/local', input: { name: `projects/sim/locations/local/queues/${queueId}` } };
  try {
    // Unless the scenario says otherwise the queue never gives up before the executor's budget is spent (DESIGN.md).
    const q = { name: queueId, ...t.queue, retryConfig: { maxAttempts: -1, ...(t.queue.retryConfig as object | undefined) } };
    [queue] = loadQueuesFile({ project: 'sim', location: 'local', queues: [q] }) as [ResolvedQueue];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.push(`${label}.queue${p.replace(/^queues\[0\] \([^)]*\)/, '')}`);
  }
  return { queue, maxAttempts: t.executor.maxAttempts, concurrency: t.executor.concurrency, instances: t.executor.instances };
}

function latencyModel(l: z.infer<typeof latencySchema>): LatencyModel {
  if ('fixed' in l) return { kind: 'fixed', ms: durationToMs(l.fixed) };
  if ('exponential' in l) return { kind: 'exponential', meanMs: durationToMs(l.exponential.mean) };
  return { kind: 'lognormal', medianMs: durationToMs(l.lognormal.median), p99Ms: durationToMs(l.lognormal.p99) };
}

/** Throttling mode of a tier's queue (the queues-file field, default model). */
export function throttlingOf(t: TierSpec): ThrottlingMode {
  return t.queue.throttling ?? 'model';
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'config'
  );
}

function parseText(text: string, origin: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw invalid(origin, [`not valid YAML: ${(err as Error).message}`]);
  }
}

function invalid(origin: string, problems: string[]): ConfigError {
  return new ConfigError('SIMULATE_SCENARIO_INVALID', problems, `Invalid ${origin}`);
}

function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the form that came closest (fewest problems), e.g. a tier list with one bad field.
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
    if (closest.length > 0) return closest.map((i) => describeIssue(i, path)).join('; ');
  }
  const label = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : issue.message;
  return `${label || '(file)'}: ${message}`;
}
