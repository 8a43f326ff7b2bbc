// Emulator benchmark: the server's own CPU per task (create + dispatch), side by side with its peer
// and with the floor, the end-to-end rate, create → dispatch latency, heap per waiting task and
// listing cost, and idle CPU.
//
// Every server runs in its own process, driven by the same undici REST client from this process
// (the third one; the receiver the tasks are pushed to is a fourth), in interleaved rounds whose
// medians are reported:
// - ours, REST: `executor emulator`, CreateTask as firebase-admin sends it (POST
//   /projects/P/locations/L/queues/Q/tasks, proto3 JSON, base64 body);
// - ours, gRPC: the same emulator process, created through the official @google-cloud/tasks client;
// - firebase-tools' Cloud Tasks emulator (its TasksEmulator class, the code `firebase emulators:start`
//   runs), installed on demand by bench/_firebase-tools.ts into a cache folder, same REST request;
// - the floor: a bare node:http server that reads the same request, parses it, answers a task and
//   sends the same push (the X-CloudTasks-* headers, the decoded body) with a bare undici Pool.
//   It is what the HTTP stacks cost with no emulator in between: "within 1.3x of the floor".
// Server CPU is read from /proc/PID/stat of the server process (Linux), before and after each round.
//
// Run: `npm run bench -- emulator`, or `npx tsx bench/emulator.ts`.
// Knobs: BENCH_EMULATOR_TASKS (per server per round, default 5000), BENCH_EMULATOR_ROUNDS (default 5),
// BENCH_EMULATOR_QUEUES (default 20), BENCH_EMULATOR_INFLIGHT (creates in flight, default 64),
// BENCH_EMULATOR_LATENCY (one-at-a-time tasks per server per round, default 200),
// BENCH_EMULATOR_HEAP_TASKS (default 100000), BENCH_EMULATOR_IDLE_SECONDS (default 5),
// BENCH_EMULATOR_PEERS ("firebase" to include firebase-tools, "none" to skip it; default firebase),
// BENCH_EMULATOR_ONLY (servers measured, comma-separated: rest, grpc, firebase, floor; default all),
// BENCH_EMULATOR_CLI (another build's cli.js to run as our emulator, e.g. a checkout of an earlier
// commit, to measure a change; default dist/cli.js, built first),
// BENCH_EMULATOR_VARIANTS (other builds measured as more REST servers in the same rounds:
// "name=/path/cli.js,…"),
// BENCH_EMULATOR_NODE_ARGS (extra node flags for our emulator, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PassThroughClient } from 'google-auth-library';
import { Pool, type Dispatcher } from 'undici';
import { intEnv } from './_env.js';
import { ensureFirebaseTools } from './_firebase-tools.js';

const ROOT = resolve(import.meta.dirname, '..');
const THIS_FILE = fileURLToPath(import.meta.url);
const PROJECT = 'local-project';
const LOCATION = 'us-central1';
const PROJECT_LOCATION = `projects/${PROJECT}/locations/${LOCATION}`;
const ROLE_ENV = 'BENCH_EMULATOR_ROLE';
/** The job every task carries: `{"bench":true}`, base64 as proto3 JSON wants bytes. */
const TASK_BODY_B64 = Buffer.from('{"bench":true}').toString('base64');

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

// ---- receiver -------------------------------------------------------------------------------------

/** A receiver that only counts (and tells who waits for an arrival): the bench measures the servers. */
interface Receiver {
  url: string;
  count: () => number;
  /** Resolves when the count reaches `n`. */
  waitFor: (n: number, timeoutMs: number) => Promise<void>;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let count = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      res.writeHead(200, { 'content-length': '0' }).end();
      if (waiter && count >= waiter.n) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
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

// ---- the floor ------------------------------------------------------------------------------------

/** Parsed push targets of the floor (a few URLs, many tasks). */
const floorTargets = new Map<string, { origin: string; path: string }>();
function parseTarget(url: string): { origin: string; path: string } {
  let t = floorTargets.get(url);
  if (t === undefined) {
    const u = new URL(url);
    floorTargets.set(url, (t = { origin: u.origin, path: `${u.pathname}${u.search}` }));
  }
  return t;
}

/** The floor's push handler: the answer is ignored as it arrives (undici's lowest-level API). */
const FLOOR_HANDLER: Dispatcher.DispatchHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
};

/**
 * The least a create + dispatch can cost on Node: node:http reads and parses the same CreateTask
 * request and answers a task, then a bare undici Pool per target origin sends the same push through
 * undici's lowest-level dispatch API (no response stream, no promise). No validation, no
 * scheduling, no retries, no bookkeeping of the answer: the HTTP stacks alone.
 */
async function startFloor(): Promise<{ port: number }> {
  const pools = new Map<string, Pool>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parent = (req.url ?? '').slice(1, -'/tasks'.length);
      const { task } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { task: { httpRequest: { url: string; headers?: Record<string, string>; body: string } } };
      const id = String(++n);
      const now = new Date().toISOString();
      const out = JSON.stringify({
        name: `${parent}/tasks/${id}`,
        httpRequest: { url: task.httpRequest.url, httpMethod: 'POST', headers: task.httpRequest.headers },
        scheduleTime: now,
        createTime: now,
        dispatchDeadline: '600s',
        view: 'BASIC',
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(out) });
      res.end(out);
      const target = parseTarget(task.httpRequest.url);
      let pool = pools.get(target.origin);
      if (pool === undefined) pools.set(target.origin, (pool = new Pool(target.origin, { connections: 256, keepAliveTimeout: 30_000 })));
      pool.dispatch(
        {
          path: target.path,
          method: 'POST',
          headers: {
            ...task.httpRequest.headers,
            'user-agent': 'Google-Cloud-Tasks',
            'x-cloudtasks-queuename': parent.slice(parent.lastIndexOf('/') + 1),
            'x-cloudtasks-taskname': id,
            'x-cloudtasks-taskretrycount': '0',
            'x-cloudtasks-taskexecutioncount': '0',
            'x-cloudtasks-tasketa': (Date.now() / 1000).toFixed(6),
          },
          body: Buffer.from(task.httpRequest.body, 'base64'),
        },
        FLOOR_HANDLER,
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port };
}

// ---- firebase-tools' emulator -------------------------------------------------------------------------

/** firebase-tools' Cloud Tasks emulator, loaded from the cache folder (never a dependency). */
async function startFirebase(): Promise<{ port: number }> {
  const dir = await ensureFirebaseTools();
  const require = createRequire(join(dir, 'package.json'));
  const { TasksEmulator } = require('firebase-tools/lib/emulator/tasksEmulator') as {
    TasksEmulator: new (args: { host: string; port: number; projectId: string }) => { start(): Promise<void> };
  };
  // Its start() does not say which port it got: take a free one first.
  const port = await new Promise<number>((res) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => res(p));
    });
  });
  await new TasksEmulator({ host: '127.0.0.1', port, projectId: PROJECT }).start();
  return { port };
}

// ---- child processes --------------------------------------------------------------------------------

type Role = 'receiver' | 'floor' | 'firebase' | 'heap';
type ToChild = { type: 'waitFor'; n: number } | { type: 'close' };
type FromChild =
  | { type: 'listening'; url: string; port: number }
  | { type: 'reached' }
  | { type: 'heap'; report: HeapReport }
  | { type: 'error'; message: string };

function send(msg: FromChild): void {
  process.send!(msg);
}

/** Entry point of a child process (BENCH_EMULATOR_ROLE), driven over the IPC channel. */
async function runRole(role: Role): Promise<void> {
  const fail = (err: unknown): void => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'close') process.exit(0);
  });
  if (role === 'receiver') {
    const receiver = await startReceiver();
    process.on('message', (msg: ToChild) => {
      if (msg.type === 'waitFor') receiver.waitFor(msg.n, 600_000).then(() => send({ type: 'reached' }), fail);
    });
    send({ type: 'listening', url: receiver.url, port: 0 });
    return;
  }
  if (role === 'floor') {
    const { port } = await startFloor();
    send({ type: 'listening', url: `http://127.0.0.1:${port}`, port });
    return;
  }
  if (role === 'firebase') {
    const { port } = await startFirebase();
    send({ type: 'listening', url: `http://127.0.0.1:${port}`, port });
    return;
  }
  if (role === 'heap') {
    send({ type: 'heap', report: await measureHeap(intEnv('BENCH_EMULATOR_HEAP_TASKS', 100_000)) });
    return;
  }
  throw new Error(`${ROLE_ENV}: unknown role '${String(role)}'`);
}

/** A child process running this file in one role, with a typed IPC channel. */
class Child {
  readonly proc: ChildProcess;
  private readonly waiting = new Map<FromChild['type'], Array<(m: FromChild) => void>>();
  private readonly rejecters = new Set<(e: Error) => void>();
  private failure: Error | undefined;

  constructor(role: Role, execArgv: string[] = []) {
    this.proc = fork(THIS_FILE, [], {
      cwd: ROOT,
      execArgv: [...execArgv, '--import', 'tsx'],
      env: { ...process.env, [ROLE_ENV]: role },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: FromChild) => {
      if (m.type === 'error') this.fail(new Error(`benchmark ${role} process failed: ${m.message}`));
      this.waiting.get(m.type)?.shift()?.(m);
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

/** CPU seconds used so far by another process, user and kernel (Linux /proc; undefined elsewhere). */
export async function processCpu(pid: number | undefined): Promise<{ user: number; system: number } | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + kernel) used so far by another process (Linux /proc; undefined elsewhere). */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  const cpu = await processCpu(pid);
  return cpu === undefined ? undefined : cpu.user + cpu.system;
}

let built: Promise<void> | undefined;

/**
 * Builds dist/ once per benchmark run: the emulator is measured as users run it (`node
 * dist/cli.js`), not through tsx, whose keep-names helper wraps every closure the handlers create.
 */
function ensureBuilt(): Promise<void> {
  built ??= new Promise<void>((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`tsc -p tsconfig.build.json exited with ${code}`))));
  });
  return built;
}

/** An `executor emulator` process (built dist/cli.js) with no queues, and the address it printed. */
export async function startEmulatorProcess(
  cli = process.env.BENCH_EMULATOR_CLI,
): Promise<{ host: string; port: number; pid: number | undefined; close: () => Promise<void> }> {
  if (cli === undefined || cli === '') await ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'bench-emulator-'));
  const file = join(dir, 'queues.yaml');
  await writeFile(file, 'queues: []\n');
  const nodeArgs = (process.env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...(cli?.endsWith('.ts') === true ? ['--import', 'tsx'] : []), cli || 'dist/cli.js', 'emulator', '--host', '127.0.0.1', '--port', '0', '--queues', file], {
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
        // SIGINT: a --cpu-prof profile is written on a normal exit only.
        child.kill('SIGINT');
        await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- clients ----------------------------------------------------------------------------------------

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
    'grpc.enable_channelz': 0,
  });
}

/** Creates one task on a server; what differs between servers is only how. */
type CreateOne = (queue: string, url: string) => Promise<void>;

/** The REST CreateTask every server gets, byte for byte the same: the firebase-admin shape. */
function restCreator(pool: Pool): CreateOne {
  return async (queue, url) => {
    const body = `{"task":{"httpRequest":{"url":"${url}","httpMethod":"POST","headers":{"Content-Type":"application/json"},"body":"${TASK_BODY_B64}"}}}`;
    const res = await pool.request({ path: `/${PROJECT_LOCATION}/queues/${queue}/tasks`, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`CreateTask answered ${res.statusCode}: ${text.slice(0, 300)}`);
  };
}

function grpcCreator(client: CloudTasksClient): CreateOne {
  const body = Buffer.from('{"bench":true}');
  return async (queue, url) => {
    await client.createTask({
      parent: `${PROJECT_LOCATION}/queues/${queue}`,
      task: { httpRequest: { url, httpMethod: 'POST', headers: { 'Content-Type': 'application/json' }, body } },
    });
  };
}

/** Creates `total` tasks round-robin over `queues`, keeping `inflight` creates open. */
async function createMany(create: CreateOne, queues: string[], url: string, total: number, inflight: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await create(queues[i % queues.length]!, url);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
}

// ---- targets ----------------------------------------------------------------------------------------

/** One server under test, as the rounds see it. */
interface Target {
  name: string;
  pid: number | undefined;
  create: CreateOne;
  close: () => Promise<void>;
}

async function restQueues(pool: Pool, ids: string[], kind: 'ours' | 'firebase'): Promise<void> {
  for (const id of ids) {
    const res =
      kind === 'ours'
        ? await pool.request({ path: `/v2/${PROJECT_LOCATION}/queues`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `${PROJECT_LOCATION}/queues/${id}` }) })
        : await pool.request({ path: `/${PROJECT_LOCATION}/queues/${id}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`CreateQueue on ${kind} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  }
}

const pool = (port: number, connections: number): Pool => new Pool(`http://127.0.0.1:${port}`, { connections, keepAliveTimeout: 60_000 });

// ---- measurements -----------------------------------------------------------------------------------

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

interface RoundResult {
  serverCpuUsPerTask: number | undefined;
  /** The kernel's part of it (sockets, mostly). */
  serverSystemUsPerTask: number | undefined;
  tasksPerSecond: number;
  clientCpuUsPerTask: number;
}

/** One round on one target: `tasks` creates, waiting until the receiver has them all. */
async function round(t: Target, receiver: Child, expected: number, tasks: number, queues: string[], url: string, inflight: number): Promise<RoundResult> {
  const reached = receiver.next('reached', 600_000);
  receiver.send({ type: 'waitFor', n: expected });
  const cpuBefore = await processCpu(t.pid);
  const clientBefore = process.cpuUsage();
  const start = performance.now();
  await createMany(t.create, queues, url, tasks, inflight);
  await reached;
  const wallMs = performance.now() - start;
  const client = process.cpuUsage(clientBefore);
  await settle(100); // the last completions' bookkeeping
  const cpuAfter = await processCpu(t.pid);
  const known = cpuBefore !== undefined && cpuAfter !== undefined;
  return {
    serverCpuUsPerTask: known ? ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) * 1e6) / tasks : undefined,
    serverSystemUsPerTask: known ? ((cpuAfter.system - cpuBefore.system) * 1e6) / tasks : undefined,
    tasksPerSecond: tasks / (wallMs / 1000),
    clientCpuUsPerTask: (client.user + client.system) / tasks,
  };
}

/** A receiver in this process for the latency phase: resolves the one arrival being waited for. */
async function latencyReceiver(): Promise<{ url: string; arrival: () => Promise<number>; close: () => Promise<void> }> {
  let waiting: ((at: number) => void) | undefined;
  const server = http.createServer((req, res) => {
    const at = performance.now();
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '0' }).end();
      const w = waiting;
      waiting = undefined;
      w?.(at);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/latency`,
    arrival: () => new Promise((r) => (waiting = r)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Create → arrival times (ms) of `n` tasks created one at a time. */
async function latencies(t: Target, queue: string, rx: Awaited<ReturnType<typeof latencyReceiver>>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const arrived = rx.arrival();
    const t0 = performance.now();
    await Promise.all([t.create(queue, rx.url), arrived.then((at) => out.push(at - t0))]);
  }
  return out;
}

/** What the heap child measured. */
interface HeapReport {
  tasks: number;
  bytesPerTask: number;
  /** ListTasks page of 100 at the start, middle and end of the queue, µs (median of repeats). */
  pageUs: { first: number; middle: number; last: number };
  /** The same middle page with 1,000 tasks in the queue, for comparison. */
  smallQueuePageUs: number;
}

/** Heap per waiting task and listing cost, on the emulator's own engine (run in a child with --expose-gc). */
async function measureHeap(n: number): Promise<HeapReport> {
  const { Engine } = await import('../src/emulator/engine/engine.js');
  const { makeLogger } = await import('../src/log.js');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the heap measurement needs node --expose-gc');
  const engine = new Engine({
    dedupWindowMs: 3_600_000,
    resetNamesOnPurge: false,
    queueNameReserveMs: 0,
    appEngineHost: 'http://localhost:8080',
    logger: makeLogger({ level: 'silent' }),
    push: () => new Promise(() => {}),
  });
  const parentBig = `${PROJECT_LOCATION}/queues/heap`;
  const parentSmall = `${PROJECT_LOCATION}/queues/small`;
  engine.createQueue(PROJECT_LOCATION, { name: parentBig });
  engine.createQueue(PROJECT_LOCATION, { name: parentSmall });
  const due = Date.now() + 3_600_000; // waiting: due in an hour
  const input = (i: number) => ({
    http: { url: 'http://127.0.0.1:8081/bench', httpMethod: 'POST' as const, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(`{"bench":${i}}`) },
    scheduleTimeMs: due,
  });
  for (let i = 0; i < 1000; i++) engine.createTask(parentSmall, input(i));
  gc();
  await settle(50);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) engine.createTask(parentBig, input(i));
  await settle(50);
  gc();
  const after = process.memoryUsage().heapUsed;
  const timePage = (parent: string, token: string | undefined): number => {
    const samples: number[] = [];
    for (let r = 0; r < 51; r++) {
      const t0 = performance.now();
      engine.listTasks(parent, 100, token);
      samples.push((performance.now() - t0) * 1000);
    }
    return median(samples);
  };
  const tokenAt = (parent: string, index: number): string | undefined => {
    let token: string | undefined;
    // Walk to the page that starts at `index` the way a client does: page by page would be slow,
    // so ask for one page of `index` tasks (within the API's 1000 maximum, repeated).
    let done = 0;
    while (done < index) {
      const size = Math.min(1000, index - done);
      token = engine.listTasks(parent, size, token).nextPageToken;
      done += size;
    }
    return token;
  };
  const report: HeapReport = {
    tasks: n,
    bytesPerTask: (after - before) / n,
    pageUs: { first: timePage(parentBig, undefined), middle: timePage(parentBig, tokenAt(parentBig, Math.floor(n / 2))), last: timePage(parentBig, tokenAt(parentBig, n - 100)) },
    smallQueuePageUs: timePage(parentSmall, tokenAt(parentSmall, 500)),
  };
  engine.close();
  return report;
}

/**
 * Idle CPU of an `executor emulator` process holding `queueCount` queues, each with a task due in
 * an hour, as % of one core.
 */
async function idleCpu(queueCount: number, seconds: number): Promise<number | undefined> {
  const proc = await startEmulatorProcess();
  try {
    const client = grpcClient(proc.host, proc.port);
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
    await settle(1000); // let startup work and the closed connection drain
    const before = await processCpuSeconds(proc.pid);
    const t0 = performance.now();
    await settle(seconds * 1000);
    const after = await processCpuSeconds(proc.pid);
    return before === undefined || after === undefined ? undefined : ((after - before) * 1000 * 100) / (performance.now() - t0);
  } finally {
    await proc.close();
  }
}

/** Runs the emulator benchmark and prints its report. */
export async function run(): Promise<void> {
  const tasks = intEnv('BENCH_EMULATOR_TASKS', 5000);
  const rounds = intEnv('BENCH_EMULATOR_ROUNDS', 5);
  const queueCount = intEnv('BENCH_EMULATOR_QUEUES', 20);
  const inflight = intEnv('BENCH_EMULATOR_INFLIGHT', 64);
  const latencyN = intEnv('BENCH_EMULATOR_LATENCY', 200);
  const idleSeconds = intEnv('BENCH_EMULATOR_IDLE_SECONDS', 5);
  const withFirebase = (process.env.BENCH_EMULATOR_PEERS ?? 'firebase') !== 'none';
  // Profiling one path: BENCH_EMULATOR_ONLY=rest (or grpc, firebase, floor; comma-separated).
  const only = (process.env.BENCH_EMULATOR_ONLY ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  const keep = (key: string): boolean => only.length === 0 || only.includes(key);
  const queues = Array.from({ length: queueCount }, (_, i) => `bench-${i}`);
  const loadBefore = loadavg()[0]!;

  print('== emulator ==');
  if (withFirebase) await ensureFirebaseTools(print);
  const targets: Target[] = [];
  const receiver = new Child('receiver');
  const closers: Array<() => Promise<void>> = [() => receiver.close()];
  try {
    const { url } = await receiver.next('listening', 30_000);

    const ours = await startEmulatorProcess();
    closers.push(() => ours.close());
    const oursPool = pool(ours.port, inflight);
    closers.push(() => oursPool.close());
    await restQueues(oursPool, queues, 'ours');
    const grpcc = grpcClient(ours.host, ours.port);
    closers.push(() => grpcc.close());
    if (keep('rest')) targets.push({ name: 'ours, REST', pid: ours.pid, create: restCreator(oursPool), close: async () => {} });
    if (keep('grpc')) targets.push({ name: 'ours, gRPC (official client)', pid: ours.pid, create: grpcCreator(grpcc), close: async () => {} });
    // Other builds side by side (BENCH_EMULATOR_VARIANTS=name=path/to/cli.js,…): what a change saved,
    // measured in the same interleaved rounds rather than in runs minutes apart on a shared machine.
    for (const spec of (process.env.BENCH_EMULATOR_VARIANTS ?? '').split(',').filter((x) => x.includes('='))) {
      const [name, cli] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
      const v = await startEmulatorProcess(cli);
      closers.push(() => v.close());
      const vPool = pool(v.port, inflight);
      closers.push(() => vPool.close());
      await restQueues(vPool, queues, 'ours');
      targets.push({ name: `${name}, REST`, pid: v.pid, create: restCreator(vPool), close: async () => {} });
    }
    if (withFirebase && keep('firebase')) {
      const fb = new Child('firebase');
      closers.push(() => fb.close());
      const { port } = await fb.next('listening', 60_000);
      const fbPool = pool(port, inflight);
      closers.push(() => fbPool.close());
      await restQueues(fbPool, queues, 'firebase');
      targets.push({ name: 'firebase-tools', pid: fb.proc.pid, create: restCreator(fbPool), close: async () => {} });
    }
    const floor = new Child('floor');
    closers.push(() => floor.close());
    const { port: floorPort } = await floor.next('listening', 30_000);
    const floorPool = pool(floorPort, inflight);
    closers.push(() => floorPool.close());
    if (keep('floor')) targets.push({ name: 'floor (node:http + undici)', pid: floor.proc.pid, create: restCreator(floorPool), close: async () => {} });

    print(
      `${tasks} tasks per server per round over ${queueCount} queues, ${inflight} in flight, ${rounds} interleaved rounds (medians); ` +
        `undici REST client in the bench process, receiver in its own; server CPU from /proc (load average ${loadBefore.toFixed(2)} at start)`,
    );
    let expected = 0;
    // Warm-up: JIT, connection pools and queues settle before anything is counted.
    for (const t of targets) {
      expected += 1000;
      await round(t, receiver, expected, 1000, queues, url, inflight);
    }
    await settle(1000); // token buckets refill
    const results = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotated order: whatever the machine does meanwhile falls on every server alike.
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(r + k) % targets.length]!;
        expected += tasks;
        results.get(t.name)!.push(await round(t, receiver, expected, tasks, queues, url, inflight));
        await settle(300);
      }
    }

    const cpu = (name: string): number | undefined => {
      const xs = results.get(name)?.map((x) => x.serverCpuUsPerTask);
      return xs === undefined || xs.length === 0 || xs.some((x) => x === undefined) ? undefined : median(xs as number[]);
    };
    const f0 = (n: number | undefined): string => (n === undefined ? '?' : n.toFixed(0));
    print('server CPU per task (create + dispatch), µs, median [min–max], of it in the kernel; end-to-end tasks/s; client CPU per task, µs:');
    for (const t of targets) {
      const rs = results.get(t.name)!;
      const c = rs.map((x) => x.serverCpuUsPerTask ?? NaN);
      print(
        `  ${t.name.padEnd(30)} ${f0(cpu(t.name)).padStart(5)} [${f0(Math.min(...c))}–${f0(Math.max(...c))}]   ` +
          `kernel ${f0(median(rs.map((x) => x.serverSystemUsPerTask ?? NaN))).padStart(4)}   ` +
          `${f0(median(rs.map((x) => x.tasksPerSecond))).padStart(6)} tasks/s   client ${f0(median(rs.map((x) => x.clientCpuUsPerTask)))}`,
      );
    }
    const oursRest = cpu('ours, REST');
    const oursGrpc = cpu('ours, gRPC (official client)');
    const fbCpu = cpu('firebase-tools');
    const floorCpu = cpu('floor (node:http + undici)');
    const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
    const f2 = (n: number | undefined): string => (n === undefined ? '?' : n.toFixed(2));
    const vsFirebase = ratio(fbCpu, oursRest);
    const vsFloor = ratio(oursRest, floorCpu);
    const vsGrpc = ratio(oursRest, oursGrpc);
    if (withFirebase) print(`  firebase-tools / ours REST: ${f2(vsFirebase)}x less CPU per task   target >= 6: ${vsFirebase !== undefined && vsFirebase >= 6 ? 'met' : 'NOT met'}`);
    print(`  ours REST / floor: ${f2(vsFloor)}x   target <= 1.3: ${vsFloor !== undefined && vsFloor <= 1.3 ? 'met' : 'NOT met'}`);
    print(`  ours REST / ours gRPC: ${f2(vsGrpc)}x   target <= 1 (REST no dearer than gRPC): ${vsGrpc !== undefined && vsGrpc <= 1 ? 'met' : 'NOT met'}`);
    const oursRounds = results.get('ours, REST');
    if (oursRounds !== undefined) {
      const e2e = median(oursRounds.map((x) => x.tasksPerSecond));
      print(`  end to end, ours REST: ${e2e.toFixed(0)} tasks/s   target >= 5000: ${e2e >= 5000 ? 'met' : 'NOT met'}`);
    }

    // Latency: one task at a time, interleaved by round, receiver in this process.
    const rx = await latencyReceiver();
    closers.push(() => rx.close());
    const lat = new Map<string, number[]>();
    const latTargets = targets.filter((t) => !t.name.startsWith('ours, gRPC'));
    for (const t of latTargets) await latencies(t, queues[0]!, rx, 20); // warm
    const latRounds = 3;
    for (let r = 0; r < latRounds; r++) {
      for (let k = 0; k < latTargets.length; k++) {
        const t = latTargets[(r + k) % latTargets.length]!;
        const xs = await latencies(t, queues[0]!, rx, Math.ceil(latencyN / latRounds));
        lat.set(t.name, [...(lat.get(t.name) ?? []), ...xs]);
      }
    }
    print(`create → dispatch latency, one task at a time (${latRounds} interleaved rounds, ${Math.ceil(latencyN / latRounds) * latRounds} tasks each), ms:`);
    for (const t of latTargets) {
      const xs = lat.get(t.name)!;
      const p99 = quantile(xs, 0.99);
      const target = t.name.startsWith('ours') ? `   target p99 < 5: ${p99 < 5 ? 'met' : 'NOT met'}` : '';
      print(`  ${t.name.padEnd(30)} p50 ${quantile(xs, 0.5).toFixed(2)}  p99 ${p99.toFixed(2)}  max ${Math.max(...xs).toFixed(2)}${target}`);
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    for (const t of targets) await t.close();
  }

  const heapChild = new Child('heap', ['--expose-gc']);
  try {
    const { report: h } = await heapChild.next('heap', 300_000);
    print(
      `heap per waiting task at ${h.tasks} tasks: ${h.bytesPerTask.toFixed(0)} bytes   target < 1024: ${h.bytesPerTask < 1024 ? 'met' : 'NOT met'}`,
    );
    const worst = Math.max(h.pageUs.first, h.pageUs.middle, h.pageUs.last);
    print(
      `ListTasks page of 100 at ${h.tasks} tasks, µs: first ${h.pageUs.first.toFixed(0)}, middle ${h.pageUs.middle.toFixed(0)}, last ${h.pageUs.last.toFixed(0)} ` +
        `(middle page at 1,000 tasks: ${h.smallQueuePageUs.toFixed(0)})   O(page): ${worst < h.smallQueuePageUs * 5 + 50 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await heapChild.close();
  }
  const idle = await idleCpu(100, idleSeconds);
  print(
    `idle CPU, 100 queues with a task due in 1 h, ${idleSeconds} s: ${idle === undefined ? '?' : idle.toFixed(2)} % of one core   target < 1 %: ${idle !== undefined && idle < 1 ? 'met' : 'NOT met'}`,
  );
  print(`(load average ${loadBefore.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end: the machine is shared)`);
}

const role = process.env[ROLE_ENV];
if (role !== undefined && role !== '') {
  runRole(role as Role).catch((err: unknown) => {
    process.stderr.write(`bench/emulator (${role}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().catch((err: unknown) => {
    process.stderr.write(`bench/emulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
