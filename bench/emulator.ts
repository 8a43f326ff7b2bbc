// Emulator benchmark: end-to-end throughput (tasks created through the official gRPC client,
// dispatched to a local receiver answering 200) and idle CPU with 100 queues.
//
// Modes (BENCH_EMULATOR_MODES, comma-separated, default "process"):
// - process: every component in its own process, as in real use and so that the 2 cores are used:
//   the emulator started through `executor emulator`, the receiver (node:http answering 200) and
//   BENCH_EMULATOR_CLIENTS processes creating tasks with the official @google-cloud/tasks client over
//   gRPC. The clock runs from the moment the clients are told to start (after a warm-up) until the
//   receiver has seen the last task. CPU is reported per component (Linux /proc).
// - inprocess: client, emulator and receiver share this process's event loop (a lower bound).
// Tasks are spread over enough queues that the 500/s per-queue cap is far above the target.
// Run: `npm run bench` (all benchmarks) or `npx tsx bench/emulator.ts` (this one alone).
// Knobs: BENCH_EMULATOR_TASKS (default 30000), BENCH_EMULATOR_QUEUES (default 20),
// BENCH_EMULATOR_CLIENTS (client processes, default 1: one client with many calls in flight costs
// the least CPU per task), BENCH_EMULATOR_INFLIGHT (concurrent CreateTask calls per client, default 256), BENCH_EMULATOR_RUNS (repetitions per mode, default 1),
// BENCH_EMULATOR_IDLE_SECONDS (default 5), BENCH_EMULATOR_MODES, BENCH_EMULATOR_NODE_ARGS (extra
// node flags for the emulator process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PassThroughClient } from 'google-auth-library';
import { startEmulator } from '../src/emulator/index.js';
import { intEnv } from './_env.js';

const ROOT = resolve(import.meta.dirname, '..');
const THIS_FILE = fileURLToPath(import.meta.url);
const PROJECT_LOCATION = 'projects/local-project/locations/us-central1';
const ROLE_ENV = 'BENCH_EMULATOR_ROLE';

// ---- receiver -------------------------------------------------------------------------------------

/** A receiver that only counts: the benchmark measures the emulator, not the target. */
interface Counter {
  url: string;
  count: () => number;
  waitFor: (n: number, timeoutMs: number) => Promise<void>;
  close: () => Promise<void>;
}

async function startCounter(): Promise<Counter> {
  let count = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      res.writeHead(200, { 'content-length': '0' }).end();
      if (waiter && count >= waiter.n) {
        waiter.resolve();
        waiter = undefined;
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bench`,
    count: () => count,
    waitFor: (n, timeoutMs) =>
      new Promise((res, rej) => {
        if (count >= n) return res();
        const timer = setTimeout(() => rej(new Error(`receiver got ${count} of ${n} tasks within ${timeoutMs} ms`)), timeoutMs);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            res();
          },
        };
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---- client ---------------------------------------------------------------------------------------

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>;

/**
 * Insecure channel and an auth client that never looks for credentials: a default GoogleAuth would
 * probe the GCE metadata server when gax asks it for its universe domain.
 */
function grpcClient(host: string, port: number): CloudTasksClient {
  return new CloudTasksClient({
    servicePath: host,
    port,
    sslCreds: grpc.credentials.createInsecure(),
    // google-gax bundles its own google-auth-library, so the types differ while the shape matches.
    authClient: new PassThroughClient() as unknown as NonNullable<ClientOptions['authClient']>,
    // A standard grpc-js channel option (gax passes grpc.* through): channelz bookkeeping costs
    // client CPU on every call, and the client's CPU is part of what this machine has to carry.
    'grpc.enable_channelz': 0,
  });
}

/** Creates `total` tasks round-robin over `queues` (starting at `offset`), keeping `inflight` CreateTask calls open. */
async function createTasks(client: CloudTasksClient, queues: string[], url: string, total: number, inflight: number, offset = 0): Promise<void> {
  let next = 0;
  const body = Buffer.from('{"bench":true}');
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await client.createTask({ parent: queues[(i + offset) % queues.length]!, task: { httpRequest: { url, httpMethod: 'POST', body } } });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
}

// ---- child processes --------------------------------------------------------------------------------

/** Messages from the benchmark to its child processes. */
type ToChild =
  | { type: 'waitFor'; n: number }
  | { type: 'setup'; host: string; port: number; queues: string[]; url: string; inflight: number; warm: number; offset: number }
  | { type: 'go'; n: number }
  | { type: 'close' };

/** Messages from the child processes. */
type FromChild = { type: 'listening'; url: string } | { type: 'reached' } | { type: 'ready' } | { type: 'created' } | { type: 'error'; message: string };

function send(msg: FromChild): void {
  process.send!(msg);
}

/** Entry point of a child process (BENCH_EMULATOR_ROLE=receiver|client), driven over the IPC channel. */
async function runRole(role: string): Promise<void> {
  const fail = (err: unknown): void => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  if (role === 'receiver') {
    const counter = await startCounter();
    process.on('message', (msg: ToChild) => {
      if (msg.type === 'waitFor') counter.waitFor(msg.n, 600_000).then(() => send({ type: 'reached' }), fail);
      if (msg.type === 'close') void counter.close().then(() => process.disconnect());
    });
    send({ type: 'listening', url: counter.url });
    return;
  }
  if (role === 'client') {
    let client: CloudTasksClient | undefined;
    let setup: Extract<ToChild, { type: 'setup' }> | undefined;
    process.on('message', (msg: ToChild) => {
      if (msg.type === 'setup') {
        setup = msg;
        client = grpcClient(msg.host, msg.port);
        // Warm-up: JIT and the channel settle before the clock starts.
        createTasks(client, msg.queues, msg.url, msg.warm, msg.inflight, msg.offset).then(() => send({ type: 'ready' }), fail);
      }
      if (msg.type === 'go' && client && setup) {
        createTasks(client, setup.queues, setup.url, msg.n, setup.inflight, setup.offset).then(() => send({ type: 'created' }), fail);
      }
      if (msg.type === 'close') void (client?.close() ?? Promise.resolve()).then(() => process.disconnect());
    });
    return;
  }
  throw new Error(`${ROLE_ENV}: unknown role '${role}'`);
}

/** A child process running this file in one role, with a typed IPC channel. */
class Child {
  readonly proc: ChildProcess;
  private readonly waiting = new Map<FromChild['type'], Array<(m: FromChild) => void>>();
  private failure: Error | undefined;

  constructor(role: 'receiver' | 'client') {
    this.proc = fork(THIS_FILE, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [ROLE_ENV]: role },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: FromChild) => {
      if (m.type === 'error') this.fail(new Error(`benchmark ${role} process failed: ${m.message}`));
      const list = this.waiting.get(m.type);
      list?.shift()?.(m);
    });
    this.proc.on('exit', (code) => {
      if (code !== 0 && code !== null) this.fail(new Error(`benchmark ${role} process exited with ${code}`));
    });
  }

  send(msg: ToChild): void {
    this.proc.send(msg);
  }

  /** The next message of `type` (rejects if the child reports an error or exits badly). */
  next<T extends FromChild['type']>(type: T, timeoutMs = 300_000): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((res, rej) => {
      if (this.failure) return rej(this.failure);
      const timer = setTimeout(() => rej(new Error(`no '${type}' from a benchmark child within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiting.get(type) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        res(m as Extract<FromChild, { type: T }>);
      });
      this.waiting.set(type, list);
      this.rejecters.add((e) => {
        clearTimeout(timer);
        rej(e);
      });
    });
  }

  private readonly rejecters = new Set<(e: Error) => void>();

  private fail(err: Error): void {
    this.failure ??= err;
    for (const r of this.rejecters) r(err);
    this.rejecters.clear();
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    if (this.proc.connected) this.send({ type: 'close' });
    await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 5000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** CPU seconds used so far by another process (Linux /proc; undefined elsewhere). */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** An `executor emulator` process with no queues, and the address it printed. */
export async function startEmulatorProcess(): Promise<{ host: string; port: number; pid: number | undefined; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-emulator-'));
  const file = join(dir, 'queues.yaml');
  await writeFile(file, 'queues: []\n');
  const nodeArgs = (process.env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli.ts', 'emulator', '--host', '127.0.0.1', '--port', '0', '--queues', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`executor emulator printed no CLOUD_TASKS_EMULATOR_HOST line within 20 s: ${out}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /CLOUD_TASKS_EMULATOR_HOST=['"]?([^\s'"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    child.on('exit', (code) => rej(new Error(`executor emulator exited with ${code}: ${out}`)));
  });
  return {
    host: address.slice(0, address.lastIndexOf(':')),
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    pid: child.pid,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function createQueues(client: CloudTasksClient, ids: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const id of ids) {
    const [q] = await client.createQueue({ parent: PROJECT_LOCATION, queue: { name: `${PROJECT_LOCATION}/queues/${id}` } });
    names.push(q.name!);
  }
  return names;
}

// ---- measurements -----------------------------------------------------------------------------------

interface ThroughputResult {
  mode: 'inprocess' | 'process';
  tasks: number;
  createSeconds: number;
  endToEndSeconds: number;
  /** CPU over the run in % of one core, per component (absent where it could not be measured). */
  cpu: { emulator?: number; clients?: number; receiver?: number; benchProcess: number };
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every component in its own process. */
async function throughputProcesses(tasks: number, queueCount: number, clients: number, inflight: number): Promise<ThroughputResult> {
  const emulator = await startEmulatorProcess();
  const receiver = new Child('receiver');
  const creators: Child[] = [];
  const admin = grpcClient(emulator.host, emulator.port);
  try {
    const { url } = await receiver.next('listening', 30_000);
    const queues = await createQueues(
      admin,
      Array.from({ length: queueCount }, (_, i) => `bench-${i}`),
    );
    await admin.close();
    const warmEach = Math.min(1000, tasks);
    for (let i = 0; i < clients; i++) creators.push(new Child('client'));
    const ready = creators.map((c) => c.next('ready', 120_000));
    creators.forEach((c, i) =>
      c.send({ type: 'setup', host: emulator.host, port: emulator.port, queues, url, inflight, warm: warmEach, offset: i * Math.ceil(queueCount / clients) }),
    );
    await Promise.all(ready);
    let expected = warmEach * clients;
    const warmed = receiver.next('reached', 120_000);
    receiver.send({ type: 'waitFor', n: expected });
    await warmed;
    await settle(1500); // let the token buckets refill

    const pids = { emulator: [emulator.pid], clients: creators.map((c) => c.proc.pid), receiver: [receiver.proc.pid] };
    const cpuOf = async (list: Array<number | undefined>): Promise<number | undefined> => {
      let sum = 0;
      for (const pid of list) {
        const s = await processCpuSeconds(pid);
        if (s === undefined) return undefined;
        sum += s;
      }
      return sum;
    };
    const before = { emulator: await cpuOf(pids.emulator), clients: await cpuOf(pids.clients), receiver: await cpuOf(pids.receiver) };
    const benchBefore = process.cpuUsage();
    const shares = creators.map((_, i) => Math.floor(tasks / clients) + (i < tasks % clients ? 1 : 0));
    expected += tasks;
    const reached = receiver.next('reached', 600_000);
    receiver.send({ type: 'waitFor', n: expected });
    const created = creators.map((c) => c.next('created', 600_000));
    const start = performance.now();
    creators.forEach((c, i) => c.send({ type: 'go', n: shares[i]! }));
    await Promise.all(created);
    const createdAt = performance.now();
    await reached;
    const done = performance.now();
    const wallMs = done - start;
    const after = { emulator: await cpuOf(pids.emulator), clients: await cpuOf(pids.clients), receiver: await cpuOf(pids.receiver) };
    const pct = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : ((a - b) * 1000 * 100) / wallMs);
    const bench = process.cpuUsage(benchBefore);
    const cpu: ThroughputResult['cpu'] = { benchProcess: ((bench.user + bench.system) / 1000 / wallMs) * 100 };
    const e = pct(after.emulator, before.emulator);
    const c = pct(after.clients, before.clients);
    const r = pct(after.receiver, before.receiver);
    if (e !== undefined) cpu.emulator = e;
    if (c !== undefined) cpu.clients = c;
    if (r !== undefined) cpu.receiver = r;
    return { mode: 'process', tasks, createSeconds: (createdAt - start) / 1000, endToEndSeconds: wallMs / 1000, cpu };
  } finally {
    await admin.close().catch(() => undefined);
    await Promise.all(creators.map((c) => c.close()));
    await receiver.close();
    await emulator.close();
  }
}

/** Client, emulator and receiver sharing this process's event loop. */
async function throughputInProcess(tasks: number, queueCount: number, inflight: number): Promise<ThroughputResult> {
  const receiver = await startCounter();
  const emulator = await startEmulator({ port: 0 });
  const client = grpcClient(emulator.host, emulator.port);
  try {
    const queues = await createQueues(
      client,
      Array.from({ length: queueCount }, (_, i) => `bench-${i}`),
    );
    const warm = Math.min(1000, tasks);
    await createTasks(client, queues, receiver.url, warm, inflight);
    await receiver.waitFor(warm, 60_000);
    await settle(1500);

    const base = receiver.count();
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await createTasks(client, queues, receiver.url, tasks, inflight);
    const created = performance.now();
    await receiver.waitFor(base + tasks, 300_000);
    const done = performance.now();
    const used = process.cpuUsage(cpuBefore);
    return {
      mode: 'inprocess',
      tasks,
      createSeconds: (created - start) / 1000,
      endToEndSeconds: (done - start) / 1000,
      cpu: { benchProcess: ((used.user + used.system) / 1000 / (done - start)) * 100 },
    };
  } finally {
    await client.close();
    await emulator.close();
    await receiver.close();
  }
}

/**
 * Idle CPU of an emulator holding `queueCount` queues, each with a task due in an hour, as % of one
 * core: measured on an `executor emulator` process where /proc allows, else in this process.
 */
async function idleCpu(queueCount: number, seconds: number): Promise<{ percent: number; where: string }> {
  const fill = async (host: string, port: number): Promise<void> => {
    const client = grpcClient(host, port);
    try {
      for (let i = 0; i < queueCount; i++) {
        const name = `${PROJECT_LOCATION}/queues/idle-${i}`;
        await client.createQueue({ parent: PROJECT_LOCATION, queue: { name } });
        // A task due in an hour: a real timer must be armed, yet nothing should run until then.
        await client.createTask({
          parent: name,
          task: { httpRequest: { url: 'http://127.0.0.1:9/never' }, scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } },
        });
      }
    } finally {
      await client.close();
    }
  };
  const proc = await startEmulatorProcess();
  try {
    await fill(proc.host, proc.port);
    await settle(1000); // let startup work and the closed connection drain
    const before = await processCpuSeconds(proc.pid);
    const t0 = performance.now();
    await settle(seconds * 1000);
    const after = await processCpuSeconds(proc.pid);
    if (before !== undefined && after !== undefined) {
      return { percent: ((after - before) * 1000 * 100) / (performance.now() - t0), where: 'executor emulator process' };
    }
  } finally {
    await proc.close();
  }
  const emulator = await startEmulator({ port: 0 });
  try {
    await fill(emulator.host, emulator.port);
    await settle(1000);
    const before = process.cpuUsage();
    const t0 = performance.now();
    await settle(seconds * 1000);
    const used = process.cpuUsage(before);
    return { percent: ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100, where: 'in-process' };
  } finally {
    await emulator.close();
  }
}

/** Runs the emulator benchmark and prints its report. */
export async function run(): Promise<void> {
  const tasks = intEnv('BENCH_EMULATOR_TASKS', 30_000);
  const queues = intEnv('BENCH_EMULATOR_QUEUES', 20);
  const clients = intEnv('BENCH_EMULATOR_CLIENTS', 1);
  const inflight = intEnv('BENCH_EMULATOR_INFLIGHT', 256);
  const runs = intEnv('BENCH_EMULATOR_RUNS', 1);
  const idleSeconds = intEnv('BENCH_EMULATOR_IDLE_SECONDS', 5);
  const modes = (process.env.BENCH_EMULATOR_MODES ?? 'process').split(',').map((m) => m.trim());
  for (const mode of modes) {
    if (mode !== 'inprocess' && mode !== 'process') throw new Error(`BENCH_EMULATOR_MODES: unknown mode '${mode}' (use process, inprocess)`);
  }

  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const f0 = (n: number | undefined): string => (n === undefined ? '?' : n.toFixed(0));
  print('== emulator ==');
  print(`throughput: ${tasks} tasks over ${queues} queues (cap ${queues * 500}/s), official gRPC client, receiver answers 200`);
  for (const mode of modes) {
    for (let i = 0; i < runs; i++) {
      // Other work on the machine takes cores away: the load average says how much.
      const loadBefore = loadavg()[0]!;
      const r = mode === 'process' ? await throughputProcesses(tasks, queues, clients, inflight) : await throughputInProcess(tasks, queues, inflight);
      const load = `load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`;
      const e2e = r.tasks / r.endToEndSeconds;
      const head =
        mode === 'process'
          ? `  own processes (emulator, receiver, ${clients} client${clients > 1 ? 's' : ''} x ${inflight} in flight)`
          : `  all in one process (${inflight} in flight)`;
      print(
        `${head}: created ${(r.tasks / r.createSeconds).toFixed(0)} tasks/s, ` +
          `end-to-end ${e2e.toFixed(0)} tasks/s (${r.endToEndSeconds.toFixed(2)} s)   target >= 5000: ${e2e >= 5000 ? 'met' : 'NOT met'}   (${load})`,
      );
      if (mode === 'process') {
        print(
          `    CPU, % of one core: emulator ${f0(r.cpu.emulator)}, clients ${f0(r.cpu.clients)}, receiver ${f0(r.cpu.receiver)}, ` +
            `benchmark driver ${f0(r.cpu.benchProcess)}`,
        );
        const perTask = (p: number | undefined): string => (p === undefined ? '?' : ((p / 100) * r.endToEndSeconds * 1e6 / r.tasks).toFixed(0));
        print(
          `    CPU per task, µs: emulator ${perTask(r.cpu.emulator)} (create + dispatch), clients ${perTask(r.cpu.clients)}, receiver ${perTask(r.cpu.receiver)}`,
        );
      } else {
        print(`    CPU, % of one core: client + emulator + receiver ${f0(r.cpu.benchProcess)}`);
      }
    }
  }
  const idle = await idleCpu(100, idleSeconds);
  print(
    `idle CPU, 100 queues with a task due in 1 h, ${idleSeconds} s (${idle.where}): ${idle.percent.toFixed(2)} % of one core   target < 1 %: ${idle.percent < 1 ? 'met' : 'NOT met'}`,
  );
}

const role = process.env[ROLE_ENV];
if (role !== undefined && role !== '') {
  runRole(role).catch((err: unknown) => {
    process.stderr.write(`bench/emulator (${role}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `npx tsx bench/emulator.ts` runs it alone.
  run().catch((err: unknown) => {
    process.stderr.write(`bench/emulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
