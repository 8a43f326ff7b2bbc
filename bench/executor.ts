/**
 * Executor benchmark: the CPU one push costs the executor, side by side with what the HTTP stack
 * itself costs and with a peer doing the same job.
 *
 * Targets, each in its own child process (so no target's heap, GC or timers land on another's
 * bill, and the load generator, here, shares none of their event loops), each on its own
 * 127.0.0.1 port:
 *   - fastify            a bare Fastify route that takes the body as bytes and answers 200: the
 *                        HTTP stack's own cost, the denominator of every ratio;
 *   - node-http          a bare `node:http` handler doing the executor's decode and decide (read the
 *                        delivery headers, decode the SvcWorkRequest, decide, answer the same JSON),
 *                        without Fastify, metrics or a log line;
 *   - executor           `buildApp` from src/executor/app.ts, auth off, a module runner returning at
 *                        once, one delivery line per push (to /dev/null through a real descriptor);
 *   - executor+oidc      the same with inbound OIDC on: an RS256 token verified against a JWKS on
 *                        loopback once, then served from the verified-token cache (as Cloud Tasks
 *                        reuses one token for many pushes);
 *   - executor+notify    a job naming a webhook: each push also builds a success notification and
 *                        hands it to an in-process fake Cloud Tasks API (the push path's own cost of
 *                        a handoff, not a CreateTask round trip);
 *   - executor-failures  `executor` with LOG_DELIVERIES=failures: successful deliveries write no line;
 *   - firebase           a Firebase task-queue handler: firebase-functions' `onTaskDispatched` on
 *                        express with its JSON body parser, as the Functions framework mounts it
 *                        (installed on demand by bench/_firebase-functions.ts, never a dependency);
 *   - executor-silent    diagnostic, only when named in BENCH_EXECUTOR_ONLY: `executor` with its
 *                        logger at `silent` (what the line costs; not the executor as deployed);
 *   - executor-sonic     diagnostic, likewise: `executor` writing its lines through pino's default
 *                        destination (an asynchronous sonic-boom, a write per line) instead of the
 *                        project's per-turn one (src/log-destination.ts): what that saves.
 * Every push is a realistic delivery: a binary SvcWorkRequest (as the original client sent it,
 * labelled application/json) with Cloud Tasks' X-CloudTasks-* and traceparent headers; the Firebase
 * peer gets the same job as its `{"data": …}` JSON body and the same headers. autocannon drives the
 * targets in interleaved rounds (the order reversed every other round) with the same connections
 * and duration; a round that sees a non-2xx answer or an error aborts the benchmark.
 *
 * Reported per target: the median over rounds of **CPU µs per push** (user + system time of the
 * target's process, from process.cpuUsage around the round, divided by the pushes answered), the
 * lowest and highest round, and requests/s; the CPU ratio bare Fastify / target (1.0 = free), the
 * median of the per-round ratios (each round's targets ran next to each other, so the machine's
 * drift between rounds cancels); and the targets: executor ≥ 0.6, executor-failures ≥ 0.7, OIDC
 * with a cached token ≤ 10 µs more than auth off (the median of the per-round differences).
 *
 * Run: `npm run bench -- executor`. Knobs: BENCH_EXECUTOR_SECONDS (per round, default 2),
 * BENCH_EXECUTOR_ROUNDS (default 7), BENCH_EXECUTOR_CONNECTIONS (default 32),
 * BENCH_EXECUTOR_ONLY (comma list of targets, default all but the diagnostic one; `fastify` is always
 * included), BENCH_EXECUTOR_PROFILE (a target name: that target runs under `node --cpu-prof`, its
 * profile written to BENCH_EXECUTOR_PROFILE_DIR, default ./profiles, when the bench ends; summarise it
 * with `npx tsx bench/_cpuprofile.ts FILE`), BENCH_EXECUTOR_BASELINE (the folder of another checkout of
 * this project, e.g. `git archive` of an earlier commit with node_modules linked in: each executor
 * target also runs from there as `TARGET@baseline`, in the same interleaved rounds, and the median
 * of the per-round differences is printed — how a change to the push path is measured on a noisy
 * machine).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import protobuf from 'protobufjs';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/executor/app.js';
import { decodeBody } from '../src/executor/codecs.js';
import { decide, type TierPolicy } from '../src/executor/decide.js';
import { readDelivery } from '../src/executor/delivery.js';
import type { TasksApi } from '../src/queues/create-task.js';
import { makeLogger } from '../src/log.js';
import { stdoutDestination } from '../src/log-destination.js';
import { makeModuleRunner } from '../src/work/module.js';
import { intEnv } from './_env.js';
import { ensureFirebaseFunctions } from './_firebase-functions.js';

// A compiled copy of this file (see compileTargets) lives elsewhere and is told where the checkout is.
const ROOT = process.env.BENCH_EXECUTOR_ROOT ?? resolve(import.meta.dirname, '..');
const SERVICE_ACCOUNT = 'bench-pusher@bench-project.iam.gserviceaccount.com';
const ISSUER = 'https://bench-issuer.invalid';

/** The targets, in the order of the report. */
const TARGETS = ['fastify', 'node-http', 'executor', 'executor+oidc', 'executor+notify', 'executor-failures', 'firebase', 'executor-silent', 'executor-sonic'] as const;
type Target = (typeof TARGETS)[number];
/** Loaded only when named in BENCH_EXECUTOR_ONLY. */
const DIAGNOSTIC_TARGETS: readonly Target[] = ['executor-silent', 'executor-sonic'];

/** What a target process prints once it listens. */
interface TargetReady {
  url: string;
  /** A bearer token minted for this target's URL (executor+oidc only). */
  token?: string;
}

// ---- the children: one server under test each ----------------------------------------------------

/** A binary SvcWorkRequest like the original client's, with or without a webhook. */
function workRequest(withWebhook: boolean): Buffer {
  const root = protobuf.loadSync(join(ROOT, 'proto/work.proto'));
  const type = root.lookupType('morais_protos.SvcWorkRequest');
  return Buffer.from(type.encode(type.fromObject(job(withWebhook))).finish());
}

function job(withWebhook: boolean): Record<string, unknown> {
  return {
    sourceFile: 'gs://demo-bucket/uploads/2026/11/report-0001.pdf',
    ...(withWebhook ? { webhookUrl: 'https://client.example.com/hooks/executor' } : {}),
    fileMetadata: { mimetype: 'application/pdf', md5: 'd41d8cd98f00b204e9800998ecf8427e', size: 482_113 },
    context: { id: 'job-0001' },
  };
}

async function listenFastify(app: FastifyInstance): Promise<{ url: string; close: () => Promise<unknown> }> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

async function listenHttp(server: ReturnType<typeof createServer>): Promise<{ url: string; close: () => Promise<unknown> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The bare node:http peer: the executor's decode and decide, nothing else. */
function nodeHttpServer(): ReturnType<typeof createServer> {
  const policy: TierPolicy = { maxAttempts: 20, hasNext: false, hasDeadLetter: false, hasNotifier: false, hasDefaultWebhook: false };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delivery = readDelivery(req.headers);
      const decoded = decodeBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      const action = decide({ outcome: { kind: 'success' }, attempt: delivery.attempt, jobHasWebhook: decoded.job.webhookUrl !== undefined, policy });
      const body = JSON.stringify({ outcome: 'success', action: action.kind, attempt: delivery.attempt });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
}

/** The Firebase peer: onTaskDispatched on express, as the Functions framework serves it. */
async function firebaseServer(): Promise<ReturnType<typeof createServer>> {
  const dir = await ensureFirebaseFunctions((l) => process.stderr.write(`${l}\n`));
  const require = createRequire(join(dir, 'package.json'));
  // The Functions runtime, not its emulator: tokens are decoded (Cloud Run verified them), not skipped.
  delete process.env.FUNCTIONS_EMULATOR;
  const express = require('express') as (() => { use(h: unknown): void; post(path: string, h: unknown): void }) & { json(o: object): unknown };
  const tasksModule = require('firebase-functions/v2/tasks') as { onTaskDispatched: (this: void, h: (req: { data: unknown }) => void) => unknown };
  // firebase-functions' logger writes structured JSON to stdout, which carries the ready line here.
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post('/', tasksModule.onTaskDispatched(() => undefined));
  return createServer(app as unknown as Parameters<typeof createServer>[0]);
}

async function startTarget(target: Target): Promise<TargetReady & { close(): Promise<void> }> {
  const closers: (() => Promise<unknown>)[] = [];
  const done = (ready: TargetReady) => ({
    ...ready,
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  });
  if (target === 'fastify') {
    const bare = Fastify({ logger: false });
    bare.removeAllContentTypeParsers();
    bare.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, cb) => cb(null, body));
    bare.post('/*', async () => ({ status: 'ok' }));
    const { url, close } = await listenFastify(bare);
    closers.push(close);
    return done({ url });
  }
  if (target === 'node-http' || target === 'firebase') {
    const { url, close } = await listenHttp(target === 'node-http' ? nodeHttpServer() : await firebaseServer());
    closers.push(close);
    return done({ url });
  }

  // Logs are produced, serialised and written as in production (the default destination, pointed at /dev/null).
  const logger =
    target === 'executor-silent'
      ? makeLogger({ level: 'silent' })
      : makeLogger({ level: 'info', destination: target === 'executor-sonic' ? pino.destination({ dest: '/dev/null', sync: false }) : stdoutDestination('/dev/null') });
  const runner = makeModuleRunner({ handler: () => undefined }, { timeoutMs: 300_000, maxOutputBytes: 65_536, logger });
  closers.push(() => runner.close());
  let created = 0;
  const tasks: TasksApi = {
    createTask: async (request) => {
      created += 1;
      return [request.task];
    },
  };
  closers.push(async () => void (target === 'executor+notify' && process.stderr.write(`(fake Cloud Tasks API received ${created} notifications)\n`)));
  const env: NodeJS.ProcessEnv = { WORKER_MODULE: 'demo', MAX_ATTEMPTS: '20', TIER: '1', LOG_LEVEL: 'info', AUTH_DISABLED: 'true' };
  if (target === 'executor+notify') Object.assign(env, { GOOGLE_CLOUD_PROJECT: 'bench-project', TASKS_LOCATION: 'us-central1', NOTIFIER_QUEUE: 'notifier' });
  if (target === 'executor-failures') env.LOG_DELIVERIES = 'failures';
  if (target !== 'executor+oidc') {
    const { url, close } = await listenFastify(buildApp({ config: loadConfig(env), runner, tasks, logger }));
    closers.push(close);
    return done({ url });
  }

  // OIDC: a local key, its JWKS on loopback, one token for this target's URL.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'bench-key-1';
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const jwksServer = await listenHttp(createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(jwks)));
  closers.push(jwksServer.close);
  delete env.AUTH_DISABLED;
  Object.assign(env, { AUTH_ALLOWED_EMAILS: SERVICE_ACCOUNT, AUTH_ISSUER: ISSUER, AUTH_JWKS_URL: `${jwksServer.url}/jwks` });
  const { url, close } = await listenFastify(buildApp({ config: loadConfig(env), runner, tasks, logger }));
  closers.push(close);
  return done({ url, token: signToken(privateKey, kid, `${url}/`) });
}

function signToken(key: Parameters<ReturnType<typeof createSign>['sign']>[0], kid: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({
    iss: ISSUER,
    aud: audience,
    azp: '1234567890',
    sub: '1234567890',
    email: SERVICE_ACCOUNT,
    email_verified: true,
    iat: now,
    exp: now + 3600,
  })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
}

// ---- the parent: load and report -----------------------------------------------------------------

/** The subset of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  connections: number;
  duration: number;
  pipelining: number;
}) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function headersFor(target: Target, token: string | undefined): Record<string, string> {
  return {
    // The original client labelled binary protobuf as JSON; the executor goes by content.
    'content-type': 'application/json',
    'user-agent': 'Google-Cloud-Tasks',
    'x-cloudtasks-queuename': 'incoming',
    'x-cloudtasks-taskname': '1234567890123456789',
    'x-cloudtasks-taskretrycount': '0',
    'x-cloudtasks-taskexecutioncount': '0',
    'x-cloudtasks-tasketa': '1795000000.000000',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    // Firebase's handler decodes (without verifying) the token Cloud Run verified; ours verifies it.
    ...((target === 'executor+oidc' || target === 'firebase') && token !== undefined ? { authorization: `Bearer ${token}` } : {}),
  };
}

interface Spawned {
  ready: TargetReady;
  cpu: () => Promise<NodeJS.CpuUsage>;
  stop: () => Promise<void>;
}

/**
 * Compiles this file and the modules it imports with tsc, as `npm run build` compiles src/, into
 * node_modules/.cache of `root` (resolving packages from there), and returns the compiled entry.
 * The targets run that, with plain node: users run the executor from dist/, and tsx would measure
 * something else — its esbuild transform wraps every function a module defines at run time (the
 * push path's callbacks included) in a keep-names helper call. BENCH_EXECUTOR_RUN=tsx runs the
 * sources through tsx instead; BENCH_EXECUTOR_BASELINE_RUN=tsx does so for the baseline only (a
 * checkout older than this option needs it, and `BENCH_EXECUTOR_BASELINE=.` with it measures what
 * tsx costs).
 */
function compileTargets(root: string): Promise<string> {
  const out = join(root, 'node_modules', '.cache', 'cte-bench-executor');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // Modules find their data files relative to themselves (src/executor/work-proto.ts: ../../proto).
  for (const data of ['proto', 'local', 'package.json']) symlinkSync(join(root, data), join(out, data));
  const config = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { rootDir: root, outDir: out, noEmit: false, declaration: false, sourceMap: false, incremental: false },
    files: [join(root, 'bench', 'executor.ts')],
    include: [],
  };
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify(config));
  return new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done(join(out, 'bench', 'executor.js')) : fail(new Error(`compiling the benchmark targets in ${root} failed (tsc exited ${code})`))));
  });
}

/** How targets run (BENCH_EXECUTOR_RUN, or BENCH_EXECUTOR_BASELINE_RUN for the baseline's): compiled (default, as users run the executor) or through tsx. */
function runMode(variable: string, fallback: 'built' | 'tsx' = 'built'): 'built' | 'tsx' {
  const mode = process.env[variable] ?? fallback;
  if (mode !== 'built' && mode !== 'tsx') throw new Error(`${variable} must be built or tsx, got '${mode}'`);
  return mode;
}

async function spawnTarget(target: Target, profileDir: string | undefined, root: string, entry: string | undefined): Promise<Spawned> {
  const flags = profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${target}.cpuprofile`] : [];
  const args = entry !== undefined ? [...flags, entry] : [...flags, '--import', 'tsx', join(root, 'bench', 'executor.ts')];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, BENCH_EXECUTOR_ROLE: 'target', BENCH_EXECUTOR_TARGET: target, BENCH_EXECUTOR_ROOT: root },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = await new Promise<TargetReady>((done, fail) => {
    const lines = createInterface({ input: child.stdout! });
    // Other output (firebase-functions' logger) is passed on; the first JSON line with a URL is ours.
    lines.on('line', (line) => {
      const parsed = line.startsWith('{"url"') ? (JSON.parse(line) as TargetReady) : undefined;
      if (parsed !== undefined) done(parsed);
      else process.stderr.write(`[${target}] ${line}\n`);
    });
    void exited.then((code) => fail(new Error(`target ${target} exited ${code} before listening`)));
  });
  return {
    ready,
    cpu: () =>
      new Promise<NodeJS.CpuUsage>((done) => {
        child.once('message', (message: unknown) => done(message as NodeJS.CpuUsage));
        child.send('cpu');
      }),
    stop: async () => {
      child.disconnect();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Runs the executor benchmark and prints its report. */
export async function run(): Promise<void> {
  const seconds = intEnv('BENCH_EXECUTOR_SECONDS', 2);
  const rounds = intEnv('BENCH_EXECUTOR_ROUNDS', 7);
  const connections = intEnv('BENCH_EXECUTOR_CONNECTIONS', 32);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const only = (process.env.BENCH_EXECUTOR_ONLY ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  const profile = process.env.BENCH_EXECUTOR_PROFILE;
  const unknown = [...only, ...(profile !== undefined ? [profile] : [])].filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`BENCH_EXECUTOR_ONLY / _PROFILE: unknown target(s) ${unknown.join(', ')}; use ${TARGETS.join(', ')}`);
  const targets = TARGETS.filter((t) => (only.length === 0 ? !DIAGNOSTIC_TARGETS.includes(t) : t === 'fastify' || only.includes(t)));
  const profileDir = resolve(process.env.BENCH_EXECUTOR_PROFILE_DIR ?? 'profiles');

  const baselineDir = process.env.BENCH_EXECUTOR_BASELINE;
  /** What is loaded: every target, and each executor target once more from the baseline checkout. */
  const mode = runMode('BENCH_EXECUTOR_RUN');
  const baselineMode = runMode('BENCH_EXECUTOR_BASELINE_RUN', mode);
  const runs: { label: string; target: Target; root: string; mode: 'built' | 'tsx' }[] = targets.map((target) => ({ label: target, target, root: ROOT, mode }));
  if (baselineDir !== undefined) {
    for (const target of targets) if (target.startsWith('executor')) runs.push({ label: `${target}@baseline`, target, root: resolve(baselineDir), mode: baselineMode });
  }
  // The compiled entry of each checkout that runs built (undefined: through tsx).
  const entries = new Map<string, string>();
  for (const root of new Set(runs.filter((r) => r.mode === 'built').map((r) => r.root))) entries.set(root, await compileTargets(root));

  // Installed before any target starts, so the install's CPU is never measured.
  if (targets.includes('firebase')) await ensureFirebaseFunctions(print);
  const spawned = new Map<string, Spawned>();
  try {
    for (const r of runs) spawned.set(r.label, await spawnTarget(r.target, r.label === profile ? profileDir : undefined, r.root, r.mode === 'built' ? entries.get(r.root) : undefined));
    const token = spawned.get('executor+oidc')?.ready.token;
    const baselineToken = spawned.get('executor+oidc@baseline')?.ready.token;
    const bodies = { plain: workRequest(false), webhook: workRequest(true), firebase: Buffer.from(JSON.stringify({ data: job(false) })) };
    const load = async (label: string, target: Target, duration: number): Promise<AutocannonResult> => {
      const result = await autocannon({
        url: `${spawned.get(label)!.ready.url}/`,
        method: 'POST',
        headers: headersFor(target, label.endsWith('@baseline') ? baselineToken : token),
        body: target === 'executor+notify' ? bodies.webhook : target === 'firebase' ? bodies.firebase : bodies.plain,
        connections,
        duration,
        pipelining: 1,
      });
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts — the figures would be meaningless`);
      }
      return result;
    };

    print('== executor ==');
    print(
      `CPU per push, each target in its own process: binary SvcWorkRequest with X-CloudTasks-* headers, handler returning at once; ` +
        `${connections} connections, ${rounds} interleaved rounds of ${seconds} s per target; Node ${process.version}; targets ${mode === 'built' ? 'compiled by tsc' : 'run through tsx'}${baselineDir !== undefined ? `, baseline ${baselineMode === 'built' ? 'compiled' : 'through tsx'}` : ''}`,
    );
    // Warm-up: JIT, connection pools and the OIDC cache, not measured.
    for (const r of runs) await load(r.label, r.target, 1);

    const cpu = new Map<string, number[]>(runs.map((r) => [r.label, []]));
    const rps = new Map<string, number[]>(runs.map((r) => [r.label, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so drift on a shared machine does not favour one target.
      const order = round % 2 === 0 ? [...runs] : [...runs].reverse();
      for (const { label, target } of order) {
        const { cpu: cpuOf } = spawned.get(label)!;
        const before = await cpuOf();
        const r = await load(label, target, seconds);
        const after = await cpuOf();
        cpu.get(label)!.push((after.user + after.system - before.user - before.system) / r.requests.total);
        rps.get(label)!.push(r.requests.total / r.duration);
      }
    }

    const fixed = (x: number, d = 0) => x.toFixed(d);
    /** The median of per-round differences a − b: the two ran next to each other, so the machine's drift cancels. */
    const paired = (a: string, b: string) => median(cpu.get(a)!.map((c, i) => c - cpu.get(b)![i]!));
    /** The median of per-round ratios bare Fastify / target, for the same reason. */
    const ratioOf = (label: string) => median(cpu.get(label)!.map((c, i) => cpu.get('fastify')![i]! / c));
    for (const { label } of runs) {
      const xs = cpu.get(label)!;
      const c = median(xs);
      const ratio = label === 'fastify' ? '' : `   CPU ratio ${ratioOf(label).toFixed(2)}   (+${fixed(paired(label, 'fastify'))} µs over bare Fastify)`;
      print(`  ${label.padEnd(27)} ${fixed(c, 1).padStart(6)} µs CPU/push (rounds ${fixed(Math.min(...xs))}–${fixed(Math.max(...xs))})   ${fixed(median(rps.get(label)!)).padStart(6)} req/s${ratio}`);
    }
    print('  (CPU ratio = bare Fastify CPU per push / target CPU per push, median of per-round ratios: 1.0 would mean the push path is free; µs over bare Fastify likewise per round)');
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    if (cpu.has('executor')) {
      const r = ratioOf('executor');
      print(`  target: executor (a line per delivery) CPU ratio >= 0.60: ${r.toFixed(2)} — ${verdict(r >= 0.6)}`);
    }
    if (cpu.has('executor-failures')) {
      const r = ratioOf('executor-failures');
      print(`  target: executor, LOG_DELIVERIES=failures CPU ratio >= 0.70: ${r.toFixed(2)} — ${verdict(r >= 0.7)}`);
    }
    if (cpu.has('executor+oidc') && cpu.has('executor')) {
      const extra = paired('executor+oidc', 'executor');
      print(`  target: OIDC with a cached token <= 10 µs more than auth off: +${extra.toFixed(1)} µs (median of per-round differences) — ${verdict(extra <= 10)}`);
    }
    if (cpu.has('firebase') && cpu.has('executor')) {
      print(`  peer: the Firebase task-queue handler costs ${(median(cpu.get('firebase')!) / median(cpu.get('executor')!)).toFixed(1)}× the executor's CPU per push`);
    }
    for (const { label } of runs) {
      if (label.endsWith('@baseline')) print(`  change: ${label.slice(0, -'@baseline'.length)} vs its baseline: ${paired(label.slice(0, -'@baseline'.length), label) >= 0 ? '+' : ''}${paired(label.slice(0, -'@baseline'.length), label).toFixed(1)} µs CPU/push (median of per-round differences)`);
    }
  } finally {
    for (const s of spawned.values()) await s.stop();
  }
  if (profile !== undefined) print(`(CPU profile of ${profile}: ${join(profileDir, `${profile}.cpuprofile`)}; summarise with npx tsx bench/_cpuprofile.ts FILE)`);
}

// ---- entry points --------------------------------------------------------------------------------

const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isMain && process.env.BENCH_EXECUTOR_ROLE === 'target') {
  const target = process.env.BENCH_EXECUTOR_TARGET as Target;
  void startTarget(target).then(
    (started) => {
      process.stdout.write(`${JSON.stringify({ url: started.url, ...(started.token !== undefined ? { token: started.token } : {}) } satisfies TargetReady)}\n`);
      // The parent asks for CPU time around each round.
      process.on('message', () => process.send?.(process.cpuUsage()));
      const stop = () => void started.close().finally(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`bench/executor target ${target}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (isMain) {
  run().catch((err: unknown) => {
    process.stderr.write(`bench/executor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
