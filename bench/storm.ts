/**
 * Retry-storm benchmark: do tiers keep good work flowing when poison tasks pile up, on real
 * processes? And how far is `executor simulate` from the real run?
 *
 * Processes on 127.0.0.1: one `executor emulator` (throttling model on, as by default), executor
 * tiers (`executor serve`, one process per tier, AUTH_DISABLED, an HTTP worker), and this process:
 * the load generator and the worker. A job's payload says what it is: good (answers 200), poison
 * (always 500) or flaky (500 with probability 0.5); the worker answers after BENCH_STORM_WORK_MS.
 * The same seeded arrival stream (Poisson, BENCH_STORM_RATE tasks/s for BENCH_STORM_SECONDS) runs
 * through three configurations, one after the other, each with its own queues and executors:
 *   - clean      the tiers below, the poison tasks of the stream left out — the reference;
 *   - one queue  10 % poison, every retry in one queue, MAX_ATTEMPTS = the whole budget (10);
 *   - tiers      10 % poison, tier 1 (MAX_ATTEMPTS 3, 100/s) then tier 2 (MAX_ATTEMPTS 7, 10/s).
 * Reported per configuration: good-task goodput (successes/s during the arrivals) and its ratio to
 * clean, good-task p99 latency from creation to success (tasks that never succeeded count as
 * slower than any), and amplification (dispatches ÷ tasks, from the emulator's stats). Targets:
 * tiers >= 0.9 of clean goodput; one queue shown for what it is. Then the same scenario runs through
 * `executor simulate` and each figure is compared (target: within 10 %).
 *
 * Run: `npm run bench -- storm`. Knobs: BENCH_STORM_RATE (tasks/s, default 40),
 * BENCH_STORM_SECONDS (arrivals per configuration, default 60), BENCH_STORM_DRAIN (seconds after
 * the arrivals, default 30), BENCH_STORM_WORK_MS (default 20).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Histogram } from '../src/simulate/histogram.js';
import { makeRandom } from '../src/simulate/random.js';
import { simulate, type ConfigurationResult } from '../src/simulate/run.js';
import { loadScenario } from '../src/simulate/scenario.js';
import { intEnv } from './_env.js';

const ROOT = resolve(import.meta.dirname, '..');
const PROJECT = 'local-project';
const LOCATION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;
const POISON = 0.1;
const FLAKY = 0.05;
const FLAKY_FAIL = 0.5;
const SEED = 7;

/** Queue settings of the tiers (queues-file fields), shared by the real run and the simulation. */
const TIER1_QUEUE = { rateLimits: { maxDispatchesPerSecond: 100, maxConcurrentDispatches: 100 }, retryConfig: { maxAttempts: -1, minBackoff: '0.5s', maxBackoff: '2s', maxDoublings: 2 } };
const TIER2_QUEUE = { rateLimits: { maxDispatchesPerSecond: 10, maxConcurrentDispatches: 20 }, retryConfig: { maxAttempts: -1, minBackoff: '2s', maxBackoff: '10s', maxDoublings: 2 } };
const BUDGET = [3, 7] as const;

interface Phase {
  name: 'clean' | 'one queue' | 'tiers';
  /** Queue settings and MAX_ATTEMPTS per tier. */
  tiers: Array<{ id: string; queue: object; maxAttempts: number }>;
  clean: boolean;
}

const PHASES: Phase[] = [
  { name: 'clean', clean: true, tiers: [{ id: 'clean-1', queue: TIER1_QUEUE, maxAttempts: BUDGET[0] }, { id: 'clean-2', queue: TIER2_QUEUE, maxAttempts: BUDGET[1] }] },
  { name: 'one queue', clean: false, tiers: [{ id: 'one-1', queue: TIER1_QUEUE, maxAttempts: BUDGET[0] + BUDGET[1] }] },
  { name: 'tiers', clean: false, tiers: [{ id: 'tiers-1', queue: TIER1_QUEUE, maxAttempts: BUDGET[0] }, { id: 'tiers-2', queue: TIER2_QUEUE, maxAttempts: BUDGET[1] }] },
];

/** What one real configuration did. */
interface Measured {
  name: string;
  tasks: number;
  goodTasks: number;
  goodputPerSecond: number;
  latencyP99Ms: number | undefined;
  amplification: number;
}

// ---- processes -----------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function tsx(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function waitForHttp(url: string, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > until) throw new Error(`${what} did not answer on ${url} within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// ---- the worker ----------------------------------------------------------------------------------

interface WorkerState {
  phase: string;
  goodInWindow: number;
  goodSucceeded: number;
  latency: Histogram;
  windowEnd: number;
}

function startWorker(state: WorkerState, workMs: number): Promise<{ url: string; server: Server }> {
  const flakyRandom = makeRandom(SEED + 1);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; created: number; phase: string };
      setTimeout(() => {
        const fail = job.kind === 'p' || (job.kind === 'f' && flakyRandom() < FLAKY_FAIL);
        res.writeHead(fail ? 500 : 200).end();
        if (!fail && job.phase === state.phase) {
          const now = Date.now();
          state.goodSucceeded++;
          if (now <= state.windowEnd) state.goodInWindow++;
          state.latency.record(now - job.created);
        }
      }, workMs);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`, server })));
}

// ---- one configuration on real processes ---------------------------------------------------------

async function emulatorStats(emulatorUrl: string): Promise<{ dispatched: number; queues: Array<{ queue: string; tasks: number; enforcedRate: number }> }> {
  const body = (await (await fetch(`${emulatorUrl}/emulator/stats`)).json()) as { stats: { dispatched: number }; queues: Array<{ queue: string; tasks: number; enforcedRate: number }> };
  return { dispatched: body.stats.dispatched, queues: body.queues };
}

async function runPhase(phase: Phase, emulator: { host: string; url: string }, worker: { url: string }, state: WorkerState, knobs: Knobs): Promise<Measured> {
  // Executors, last tier first so each knows the next one's URL.
  const ports = await Promise.all(phase.tiers.map(() => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}/`);
  const executors: ChildProcess[] = [];
  try {
    phase.tiers.forEach((t, i) => {
      const env: Record<string, string> = {
        PORT: String(ports[i]),
        MAX_ATTEMPTS: String(t.maxAttempts),
        TIER: String(i + 1),
        GOOGLE_CLOUD_PROJECT: PROJECT,
        TASKS_LOCATION: LOCATION,
        CLOUD_TASKS_EMULATOR_HOST: emulator.host,
        AUTH_DISABLED: 'true',
        WORKER_URL: worker.url,
        EXECUTOR_QUEUE: t.id,
        LOG_LEVEL: 'fatal',
      };
      const next = phase.tiers[i + 1];
      if (next !== undefined) {
        env.PROBLEM_QUEUE = next.id;
        env.PROBLEM_SERVICE = urls[i + 1]!;
      }
      executors.push(tsx(['serve'], env));
    });
    await Promise.all(urls.map((u, i) => waitForHttp(`${u}health`, `executor tier ${i + 1} of ${phase.name}`)));

    state.phase = phase.name;
    state.goodInWindow = 0;
    state.goodSucceeded = 0;
    state.latency = new Histogram();
    const before = (await emulatorStats(emulator.url)).dispatched;
    const random = makeRandom(SEED);
    const started = Date.now();
    state.windowEnd = started + knobs.seconds * 1000;
    let tasks = 0;
    let goodTasks = 0;
    let failedCreates = 0;
    const creates: Promise<void>[] = [];
    // The same stream as the simulator's arrivals: one uniform for the kind, one for the gap.
    for (let t = 0; t < knobs.seconds * 1000; ) {
      const u = random();
      const kind = u < POISON ? 'p' : u < POISON + FLAKY ? 'f' : 'g';
      const at = started + t;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (kind !== 'p' || !phase.clean) {
        tasks++;
        if (kind !== 'p') goodTasks++;
        const body = Buffer.from(JSON.stringify({ payload: { kind, created: Date.now(), phase: phase.name } })).toString('base64');
        creates.push(
          fetch(`${emulator.url}/v2/${PARENT}/queues/${phase.tiers[0]!.id}/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ task: { httpRequest: { url: urls[0], httpMethod: 'POST', body, headers: { 'content-type': 'application/json' } } } }),
          }).then(
            (r) => {
              if (!r.ok) failedCreates++;
              return r.body?.cancel();
            },
            () => {
              failedCreates++;
            },
          ),
        );
      }
      t += (-Math.log(1 - random()) / knobs.rate) * 1000;
    }
    await Promise.all(creates);
    if (failedCreates > 0) throw new Error(`${failedCreates} CreateTask calls failed in ${phase.name}`);
    await new Promise((r) => setTimeout(r, Math.max(0, started + (knobs.seconds + knobs.drain) * 1000 - Date.now())));
    const after = await emulatorStats(emulator.url);
    const p99 = state.latency.quantile(0.99, goodTasks - state.goodSucceeded);
    return {
      name: phase.name,
      tasks,
      goodTasks,
      goodputPerSecond: state.goodInWindow / knobs.seconds,
      latencyP99Ms: p99,
      amplification: (after.dispatched - before) / tasks,
    };
  } finally {
    await Promise.all(executors.map(stop));
  }
}

// ---- the same scenario, simulated ----------------------------------------------------------------

function simulated(knobs: Knobs): ConfigurationResult[] {
  const tier = (queue: object, maxAttempts: number) => ({ queue, executor: { maxAttempts, concurrency: 1000, instances: 1 } });
  const scenario = loadScenario({
    duration: knobs.seconds,
    drain: knobs.drain,
    seed: SEED,
    arrivals: { ratePerSecond: knobs.rate },
    jobs: { poison: POISON, flaky: { share: FLAKY, failProbability: FLAKY_FAIL } },
    // The worker's time plus what a push costs the executor and the emulator on loopback (measured, roughly).
    work: { latency: { fixed: `${knobs.workMs + 5}ms` } },
    configurations: [
      { name: 'clean', clean: true, tiers: [tier(TIER1_QUEUE, BUDGET[0]), tier(TIER2_QUEUE, BUDGET[1])] },
      { name: 'one queue', tiers: [tier(TIER1_QUEUE, BUDGET[0] + BUDGET[1])] },
      { name: 'tiers', tiers: [tier(TIER1_QUEUE, BUDGET[0]), tier(TIER2_QUEUE, BUDGET[1])] },
    ],
  });
  return simulate(scenario);
}

// ---- report --------------------------------------------------------------------------------------

interface Knobs {
  rate: number;
  seconds: number;
  drain: number;
  workMs: number;
}

function fmtMs(v: number | undefined): string {
  if (v === undefined) return '–';
  if (v === Infinity) return 'unfinished';
  return v < 1000 ? `${v.toFixed(0)} ms` : `${(v / 1000).toFixed(2)} s`;
}

function gap(real: number | undefined, sim: number | undefined): string {
  if (real === undefined || sim === undefined) return '–';
  if (real === Infinity || sim === Infinity) return real === sim ? '0 %' : 'n/a';
  if (real === 0) return sim === 0 ? '0 %' : 'n/a';
  return `${(((sim - real) / real) * 100).toFixed(1)} %`;
}

export async function run(): Promise<void> {
  const knobs: Knobs = {
    rate: intEnv('BENCH_STORM_RATE', 40),
    seconds: intEnv('BENCH_STORM_SECONDS', 60),
    drain: intEnv('BENCH_STORM_DRAIN', 30),
    workMs: intEnv('BENCH_STORM_WORK_MS', 20),
  };
  process.stdout.write(`== storm ==\n${knobs.rate} tasks/s for ${knobs.seconds} s (+${knobs.drain} s drain) per configuration, ${POISON * 100} % poison, ${FLAKY * 100} % flaky; work ${knobs.workMs} ms\n`);
  const dir = await mkdtemp(join(tmpdir(), 'bench-storm-'));
  const queuesFile = join(dir, 'queues.yaml');
  const queues = PHASES.flatMap((p) => p.tiers.map((t) => ({ name: t.id, ...t.queue })));
  await writeFile(queuesFile, JSON.stringify({ project: PROJECT, location: LOCATION, queues }));
  const emulatorPort = await freePort();
  const emulatorProc = tsx(['emulator', '--host', '127.0.0.1', '--port', String(emulatorPort), '--queues', queuesFile, '--log-level', 'warn'], {});
  const state: WorkerState = { phase: '', goodInWindow: 0, goodSucceeded: 0, latency: new Histogram(), windowEnd: 0 };
  const worker = await startWorker(state, knobs.workMs);
  try {
    const emulator = { host: `127.0.0.1:${emulatorPort}`, url: `http://127.0.0.1:${emulatorPort}` };
    await waitForHttp(`${emulator.url}/emulator/stats`, 'the emulator');
    const measured: Measured[] = [];
    for (const phase of PHASES) {
      process.stdout.write(`  running ${phase.name} …\n`);
      measured.push(await runPhase(phase, emulator, worker, state, knobs));
    }
    const clean = measured.find((m) => m.name === 'clean')!;
    process.stdout.write('\nreal processes      goodput/s  ratio to clean  good p99       amplification\n');
    for (const m of measured) {
      process.stdout.write(
        `  ${m.name.padEnd(16)}  ${m.goodputPerSecond.toFixed(1).padStart(9)}  ${(m.goodputPerSecond / clean.goodputPerSecond).toFixed(2).padStart(14)}  ${fmtMs(m.latencyP99Ms).padEnd(13)}  ${m.amplification.toFixed(2)}\n`,
      );
    }
    const tiers = measured.find((m) => m.name === 'tiers')!;
    const ratio = tiers.goodputPerSecond / clean.goodputPerSecond;
    process.stdout.write(`tiers goodput ratio to clean: ${ratio.toFixed(2)} (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})\n`);

    const started = performance.now();
    const sim = simulated(knobs);
    const simMs = performance.now() - started;
    const simClean = sim.find((r) => r.name === 'clean')!;
    process.stdout.write(`\nexecutor simulate (${(simMs / 1000).toFixed(2)} s for the three)  goodput/s (gap)   ratio to clean (gap)   good p99 (gap)          amplification (gap)\n`);
    let worst = 0;
    for (const m of measured) {
      const s = sim.find((r) => r.name === m.name)!;
      const sRatio = s.goodputPerSecond / simClean.goodputPerSecond;
      const mRatio = m.goodputPerSecond / clean.goodputPerSecond;
      for (const [a, b] of [
        [m.goodputPerSecond, s.goodputPerSecond],
        [mRatio, sRatio],
        [m.amplification, s.amplification],
      ] as const) {
        if (a > 0) worst = Math.max(worst, Math.abs((b - a) / a));
      }
      process.stdout.write(
        `  ${m.name.padEnd(16)}  ${s.goodputPerSecond.toFixed(1).padStart(6)} (${gap(m.goodputPerSecond, s.goodputPerSecond)})   ${sRatio.toFixed(2)} (${gap(mRatio, sRatio)})   ${fmtMs(s.latencyP99Ms)} (${gap(m.latencyP99Ms, s.latencyP99Ms)})   ${s.amplification.toFixed(2)} (${gap(m.amplification, s.amplification)})\n`,
      );
    }
    process.stdout.write(`largest gap of goodput, ratio and amplification: ${(worst * 100).toFixed(1)} % (target <= 10 %: ${worst <= 0.1 ? 'met' : 'NOT met'})\n`);
  } finally {
    await stop(emulatorProc);
    await new Promise<void>((r) => worker.server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}
