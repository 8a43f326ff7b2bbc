/**
 * Runs one configuration of a scenario on the emulator's own engine with a virtual clock: the same
 * scheduling, backoff, rate-limit and throttling code as `executor emulator`, and the executor's real
 * `readDelivery` and `decide` at every push. Only the work itself (its outcome and latency) and
 * Cloud Run's capacity are modelled here. Memory is bounded by what is waiting: per task the
 * engine's record; per run fixed counters and histograms.
 */
import { settleAfter, VirtualClock } from '../emulator/engine/clock.js';
import { Engine } from '../emulator/engine/engine.js';
import { pushRequest, type Delivery, type PushResult } from '../emulator/dispatch.js';
import { OidcSigner } from '../emulator/oidc.js';
import { decide, type TierPolicy } from '../executor/decide.js';
import { readDelivery } from '../executor/delivery.js';
import { makeLogger } from '../log.js';
import type { RunOutcome } from '../work/types.js';
import { Histogram } from './histogram.js';
import { makeRandom, sampler } from './random.js';
import { throttlingOf, type ConfigurationSpec, type Scenario } from './scenario.js';

/** Figures of one reporting interval. */
export interface IntervalFigures {
  /** Start of the interval, seconds since the first arrival. */
  startS: number;
  /** Good tasks that succeeded per second in this interval. */
  goodput: number;
  /** Creation-to-success latency of the good tasks that succeeded in this interval. */
  p50Ms?: number;
  p99Ms?: number;
  /** Tasks waiting in all the configuration's queues at the end of the interval. */
  waiting: number;
  /** Enforced rate of the first tier's queue at the end of the interval. */
  tier1EnforcedRate: number;
}

/** What one configuration did (see docs: `executor simulate`). */
export interface ConfigurationResult {
  name: string;
  tiers: number;
  /** Total attempt budget (sum of the tiers' MAX_ATTEMPTS). */
  attemptBudget: number;
  /** Tasks created by the arrivals. */
  tasks: number;
  /** Tasks that can succeed (not poison). */
  goodTasks: number;
  /** Good tasks that succeeded by the end of the run. */
  goodSucceeded: number;
  /** Good tasks that succeeded during the arrival period, per second. */
  goodputPerSecond: number;
  /** Creation-to-success latency of good tasks; null (JSON) / Infinity when the quantile falls among good tasks that never succeeded. */
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  /** Dispatches ÷ tasks. */
  amplification: number;
  dispatches: number;
  /** Dispatches of poison tasks. */
  poisonDispatches: number;
  /** Dispatches the executor's capacity turned away with 429 (concurrency × instances reached). */
  rejectedDispatches: number;
  /** From creation until a poison task left the first tier (forwarded, or failed at the last tier). */
  poisonLeaveTier1P50Ms?: number;
  poisonLeaveTier1P99Ms?: number;
  /** Tasks whose budget ran out at the last tier (failure notifications). */
  failedTasks: number;
  /** Tasks still in a queue at the end. */
  waiting: number;
  /** Request-seconds ÷ concurrency: instance time spent busy. */
  busyInstanceSeconds: number;
  /** dispatches · price per million + busy instance-seconds · price per instance-second. */
  costEstimate: number;
  intervals: IntervalFigures[];
  /** Wall-clock milliseconds the simulation took. */
  wallMs: number;
}

/** Called after each reporting interval with the simulated time reached. */
export type Progress = (simulatedMs: number, totalMs: number) => void;

const KIND = { good: 'g', poison: 'p', flaky: 'f', outage: 'o' } as const;
const RETRYABLE: RunOutcome = { kind: 'retryable', error: { type: 'Simulated', message: 'the job failed' } };
const SUCCESS: RunOutcome = { kind: 'success' };
const signer = new OidcSigner('http://simulate.invalid', 'http://simulate.invalid/jwks');

interface TierRuntime {
  queue: string;
  url: string;
  capacity: number;
  concurrency: number;
  policy: TierPolicy;
  busy: number;
}

/**
 * Simulates one configuration of a scenario. (One long function on purpose: the engine's push
 * callback, the arrival loop and the per-interval sampling all update the same counters and
 * histograms, which closures share without allocating per dispatch — this is the simulator's hot path.)
 */
export function simulateConfiguration(scenario: Scenario, config: ConfigurationSpec, onProgress?: Progress): ConfigurationResult {
  const started = performance.now();
  const clock = new VirtualClock(0);
  // One generator per concern: every configuration sees the same arrival stream.
  const random = makeRandom(scenario.seed);
  const outcomeRandom = makeRandom(scenario.seed + 1);
  const latency = sampler(scenario.latency, makeRandom(scenario.seed + 2));
  const tiers: TierRuntime[] = config.tiers.map((t, i) => ({
    queue: t.queue.input.name!,
    url: `http://tier-${i + 1}.simulate.invalid/`,
    capacity: t.concurrency * t.instances,
    concurrency: t.concurrency,
    policy: { maxAttempts: t.maxAttempts, hasNext: i < config.tiers.length - 1, hasDeadLetter: false, hasNotifier: true, hasDefaultWebhook: true },
    busy: 0,
  }));
  const tierByUrl = new Map(tiers.map((t, i) => [t.url, i]));

  let dispatches = 0;
  let poisonDispatches = 0;
  let rejected = 0;
  let busyMs = 0;
  let goodSucceeded = 0;
  let goodInWindow = 0;
  let failedTasks = 0;
  const latencyAll = new Histogram();
  const latencyInterval = new Histogram();
  let goodThisInterval = 0;
  const poisonLeave = new Histogram();

  const jobs = config.jobs;
  const outcomeOf = (kind: string, now: number): RunOutcome => {
    if (kind === KIND.good) return SUCCESS;
    if (kind === KIND.poison) return RETRYABLE;
    if (kind === KIND.flaky) return outcomeRandom() < jobs.flakyFailProbability ? RETRYABLE : SUCCESS;
    return now >= jobs.outageFromMs && now < jobs.outageToMs ? RETRYABLE : SUCCESS;
  };

  const engine: Engine = new Engine({
    dedupWindowMs: 0,
    resetNamesOnPurge: false,
    queueNameReserveMs: 0,
    appEngineHost: 'http://localhost:8080',
    logger: makeLogger({ level: 'silent' }),
    clock,
    throttleParams: scenario.throttle,
    push: (d: Delivery): PromiseLike<PushResult> => {
      const req = pushRequest(d, signer);
      const index = tierByUrl.get(req.url)!;
      const tier = tiers[index]!;
      const job = req.headers['x-sim-job']!;
      const kind = job.charAt(0);
      dispatches++;
      if (kind === KIND.poison) poisonDispatches++;
      // Cloud Run at max instances turns requests away with 429, which Cloud Tasks sees as overload.
      if (tier.busy >= tier.capacity) {
        rejected++;
        return settleAfter(clock, 0, () => ({ kind: 'response', status: 429 }));
      }
      tier.busy++;
      const ms = latency();
      busyMs += ms / tier.concurrency;
      return settleAfter(clock, ms, () => {
        tier.busy--;
        const now = clock.now();
        const outcome = outcomeOf(kind, now);
        const delivery = readDelivery(req.headers);
        const action = decide({ outcome, attempt: delivery.attempt, jobHasWebhook: false, policy: tier.policy });
        const createdAt = Number(job.slice(2));
        switch (action.kind) {
          case 'retry':
          case 'reject':
            return { kind: 'response', status: action.status };
          case 'forward': {
            const next = tiers[index + 1]!;
            engine.createTask(next.queue, { http: { url: next.url, httpMethod: 'POST', headers: { 'x-sim-job': job } } });
            if (index === 0 && kind === KIND.poison) poisonLeave.record(now - createdAt);
            break;
          }
          case 'notify':
          case 'ack':
            if (action.kind === 'notify' && action.outcome === 'failed') {
              failedTasks++;
              if (index === 0 && kind === KIND.poison) poisonLeave.record(now - createdAt);
            } else if (kind !== KIND.poison) {
              goodSucceeded++;
              if (now <= scenario.durationMs) goodInWindow++;
              goodThisInterval++;
              latencyAll.record(now - createdAt);
              latencyInterval.record(now - createdAt);
            }
            break;
          case 'dead-letter':
            break;
        }
        return { kind: 'response', status: 200 };
      });
    },
  });
  config.tiers.forEach((t, i) => {
    engine.createQueue(t.queue.parent, t.queue.input, true);
    engine.setThrottling(tiers[i]!.queue, throttlingOf(t));
  });

  // Poisson arrivals, one timer at a time: memory does not grow with the duration.
  const poisonUpTo = jobs.poisonShare;
  const flakyUpTo = poisonUpTo + jobs.flakyShare;
  const outageUpTo = flakyUpTo + jobs.outageShare;
  const first = tiers[0]!;
  let tasks = 0;
  let goodTasks = 0;
  const arrive = (): void => {
    const now = clock.now();
    if (now >= scenario.durationMs) return;
    const u = random();
    const kind = u < poisonUpTo ? KIND.poison : u < flakyUpTo ? KIND.flaky : u < outageUpTo ? KIND.outage : KIND.good;
    if (kind !== KIND.poison || !config.clean) {
      tasks++;
      if (kind !== KIND.poison) goodTasks++;
      engine.createTask(first.queue, { http: { url: first.url, httpMethod: 'POST', headers: { 'x-sim-job': `${kind}:${now}` } } });
    }
    clock.setTimer(arrive, (-Math.log(1 - random()) / scenario.ratePerSecond) * 1000);
  };
  clock.setTimer(arrive, 0);

  const totalMs = scenario.durationMs + scenario.drainMs;
  const intervals: IntervalFigures[] = [];
  const waitingNow = (): { waiting: number; rate: number } => {
    const stats = engine.queueStats();
    return { waiting: stats.reduce((n, q) => n + q.tasks, 0), rate: stats.find((q) => q.queue === first.queue)?.enforcedRate ?? 0 };
  };
  for (let t = 0; t < totalMs; t += scenario.intervalMs) {
    const end = Math.min(totalMs, t + scenario.intervalMs);
    clock.runUntil(end);
    const { waiting, rate } = waitingNow();
    const f: IntervalFigures = { startS: t / 1000, goodput: goodThisInterval / ((end - t) / 1000), waiting, tier1EnforcedRate: rate };
    const p50 = latencyInterval.quantile(0.5);
    const p99 = latencyInterval.quantile(0.99);
    if (p50 !== undefined) f.p50Ms = p50;
    if (p99 !== undefined) f.p99Ms = p99;
    intervals.push(f);
    goodThisInterval = 0;
    latencyInterval.reset();
    onProgress?.(end, totalMs);
  }
  const { waiting } = waitingNow();
  engine.close();

  const result: ConfigurationResult = {
    name: config.name,
    tiers: config.tiers.length,
    attemptBudget: config.tiers.reduce((n, t) => n + t.maxAttempts, 0),
    tasks,
    goodTasks,
    goodSucceeded,
    goodputPerSecond: goodInWindow / (scenario.durationMs / 1000),
    amplification: tasks === 0 ? 0 : dispatches / tasks,
    dispatches,
    poisonDispatches,
    rejectedDispatches: rejected,
    failedTasks,
    waiting,
    busyInstanceSeconds: busyMs / 1000,
    costEstimate: (dispatches / 1e6) * scenario.costPerMillionDispatches + (busyMs / 1000) * scenario.costPerInstanceSecond,
    intervals,
    wallMs: performance.now() - started,
  };
  // Good tasks that never succeeded count as slower than any that did (see Histogram.quantile).
  const p50 = latencyAll.quantile(0.5, goodTasks - goodSucceeded);
  const p99 = latencyAll.quantile(0.99, goodTasks - goodSucceeded);
  if (p50 !== undefined) result.latencyP50Ms = p50;
  if (p99 !== undefined) result.latencyP99Ms = p99;
  const l50 = poisonLeave.quantile(0.5);
  const l99 = poisonLeave.quantile(0.99);
  if (l50 !== undefined) result.poisonLeaveTier1P50Ms = l50;
  if (l99 !== undefined) result.poisonLeaveTier1P99Ms = l99;
  return result;
}

/** Simulates every configuration of a scenario, one after the other. */
export function simulate(scenario: Scenario, onProgress?: (config: string, simulatedMs: number, totalMs: number) => void): ConfigurationResult[] {
  return scenario.configurations.map((c) => simulateConfiguration(scenario, c, onProgress ? (s, t) => onProgress(c.name, s, t) : undefined));
}
