/**
 * Executor benchmark: what the push path costs over a bare Fastify route.
 *
 * Targets, all in one child process (so the load generator, here, does not share their event
 * loop), each on its own 127.0.0.1 port:
 *   - bare       a Fastify route that takes the body as bytes and answers 200 — the ceiling;
 *   - executor   `buildApp` from src/executor/app.ts with auth disabled and a module runner that
 *                returns at once; the job names no webhook, so a push is read, decoded, run,
 *                decided, logged (one line per delivery, to /dev/null) and answered 200;
 *   - +webhook   the same with a job that names a webhook: each push also builds a success
 *                notification and hands it to an in-process fake Cloud Tasks API (no network), so
 *                this is the push path's own cost of notifying, not a CreateTask round trip;
 *   - +oidc      the `executor` case with inbound OIDC on: tokens signed with a local RSA key,
 *                verified against a JWKS served on 127.0.0.1 (AUTH_JWKS_URL).
 * Every push is a realistic delivery: a binary SvcWorkRequest (as the original client sent it,
 * labelled application/json) with Cloud Tasks' X-CloudTasks-* headers. autocannon drives each
 * target in alternating rounds with the same connections and duration; a round that sees a non-2xx
 * answer or an error aborts the benchmark (cheap 4xx answers would flatter the figures).
 *
 * Reported: requests/s and p99 latency per target, and each executor variant as a ratio of the bare
 * route's (target: >= 0.8 of bare throughput with auth disabled).
 *
 * Run: `npm run bench -- executor`. Knobs: BENCH_EXECUTOR_SECONDS (per round, default 3),
 * BENCH_EXECUTOR_ROUNDS (default 3), BENCH_EXECUTOR_CONNECTIONS (default 32),
 * BENCH_EXECUTOR_ONLY (comma list of targets to load, default all but the diagnostic
 * `executor-silent` — the executor with logging off; `bare` is always included),
 * BENCH_EXECUTOR_TARGETS_ONLY=1 (start the targets and print their URLs, for profiling by hand),
 * BENCH_EXECUTOR_BREAKDOWN=0 (skip the per-step timings printed after the HTTP figures).
 */
import { spawn } from 'node:child_process';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import protobuf from 'protobufjs';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/executor/app.js';
import type { TasksApi } from '../src/queues/create-task.js';
import { decodeBody } from '../src/executor/codecs.js';
import { decide } from '../src/executor/decide.js';
import { readDelivery } from '../src/executor/delivery.js';
import { makeMetrics } from '../src/executor/metrics.js';
import { traceFields } from '../src/executor/trace.js';
import { makeLogger } from '../src/log.js';
import { makeModuleRunner } from '../src/work/module.js';
import { intEnv } from './_env.js';

const ROOT = resolve(import.meta.dirname, '..');
const THIS_FILE = fileURLToPath(import.meta.url);
const SERVICE_ACCOUNT = 'bench-pusher@bench-project.iam.gserviceaccount.com';
const ISSUER = 'https://bench-issuer.invalid';

/** The four targets, in the order of the report. */
const TARGETS = ['bare', 'executor', 'executor+webhook', 'executor+oidc', 'executor-silent'] as const;
type Target = (typeof TARGETS)[number];
/**
 * Diagnostic targets, loaded only when named in BENCH_EXECUTOR_ONLY: `executor-silent` is the
 * `executor` case with its logger at `silent`, to show what the one log line per delivery costs.
 * It is not the executor as deployed (the log line is required), so never the headline figure.
 */
const DIAGNOSTIC_TARGETS: readonly Target[] = ['executor-silent'];

/** What the child process prints once its servers listen. */
interface TargetsReady {
  urls: Record<Target, string>;
  /** Bearer token for the OIDC target (audience = its URL). */
  token: string;
}

// ---- the child: the servers under test ---------------------------------------------------------

async function startTargets(): Promise<TargetsReady & { close(): Promise<void> }> {
  const closers: (() => Promise<unknown>)[] = [];
  // Logs are produced and serialised as in production, then discarded.
  const logger = makeLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  const runner = makeModuleRunner({ handler: () => undefined }, { timeoutMs: 300_000, maxOutputBytes: 65_536, logger });
  let created = 0;
  const tasks: TasksApi = {
    createTask: async (request) => {
      created += 1;
      return [request.task];
    },
  };

  const listen = async (app: FastifyInstance): Promise<string> => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => app.close());
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  };

  const bare = Fastify({ logger: false });
  bare.removeAllContentTypeParsers();
  bare.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  bare.post('/*', async () => ({ status: 'ok' }));

  const base = { WORKER_MODULE: 'demo', MAX_ATTEMPTS: '20', TIER: '1', LOG_LEVEL: 'info' };
  const queues = { GOOGLE_CLOUD_PROJECT: 'bench-project', TASKS_LOCATION: 'us-central1', NOTIFIER_QUEUE: 'notifier', NOTIFIER_LOCATION: 'us-central1' };
  const plain = buildApp({ config: loadConfig({ ...base, AUTH_DISABLED: 'true' }), runner, tasks, logger });
  const webhook = buildApp({ config: loadConfig({ ...base, ...queues, AUTH_DISABLED: 'true' }), runner, tasks, logger });

  // OIDC: a local key, its JWKS on loopback, one token for the target's URL.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'bench-key-1';
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(jwks));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => jwksServer.close(r)));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  const oidc = buildApp({
    config: loadConfig({ ...base, AUTH_ALLOWED_EMAILS: SERVICE_ACCOUNT, AUTH_ISSUER: ISSUER, AUTH_JWKS_URL: jwksUrl }),
    runner,
    tasks,
    logger,
  });

  const urls: Record<Target, string> = {
    bare: await listen(bare),
    executor: await listen(plain),
    'executor+webhook': await listen(webhook),
    'executor+oidc': await listen(oidc),
    'executor-silent': await listen(
      buildApp({ config: loadConfig({ ...base, AUTH_DISABLED: 'true' }), runner, tasks, logger: makeLogger({ level: 'silent' }) }),
    ),
  };
  const token = signToken(privateKey, kid, `${urls['executor+oidc']}/`);
  return {
    urls,
    token,
    close: async () => {
      for (const close of closers.reverse()) await close();
      await runner.close();
      process.stderr.write(`(fake Cloud Tasks API received ${created} notifications)\n`);
    },
  };
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

// ---- the parent: load and report ---------------------------------------------------------------

/** The subset of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
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

/** A binary SvcWorkRequest like the original client's, with or without a webhook. */
function workRequest(withWebhook: boolean): Buffer {
  const root = protobuf.loadSync(join(ROOT, 'proto/work.proto'));
  const type = root.lookupType('morais_protos.SvcWorkRequest');
  return Buffer.from(
    type
      .encode(
        type.fromObject({
          sourceFile: 'gs://demo-bucket/uploads/2026/11/report-0001.pdf',
          ...(withWebhook ? { webhookUrl: 'https://client.example.com/hooks/executor' } : {}),
          fileMetadata: { mimetype: 'application/pdf', md5: 'd41d8cd98f00b204e9800998ecf8427e', size: 482_113 },
          context: { id: 'job-0001' },
        }),
      )
      .finish(),
  );
}

function headersFor(target: Target, token: string): Record<string, string> {
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
    ...(target === 'executor+oidc' ? { authorization: `Bearer ${token}` } : {}),
  };
}

async function spawnTargets(): Promise<{ ready: TargetsReady; cpuMicros: () => Promise<NodeJS.CpuUsage>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', THIS_FILE], {
    cwd: ROOT,
    env: { ...process.env, BENCH_EXECUTOR_ROLE: 'targets' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = await new Promise<TargetsReady>((done, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => done(JSON.parse(line) as TargetsReady));
    void exited.then((code) => fail(new Error(`the benchmark's target process exited ${code} before listening`)));
  });
  return {
    ready,
    cpuMicros: () =>
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

/**
 * The push path's steps timed in isolation (this process, no HTTP): what the executor adds to a
 * bare route, step by step, as CPU microseconds per call. The HTTP figures above also include
 * what no code change removes (Fastify, the socket, the kernel); this says where the rest goes.
 */
async function breakdown(print: (line: string) => void): Promise<void> {
  const headers = Object.fromEntries(Object.entries(headersFor('executor', '')).map(([k, v]) => [k.toLowerCase(), v]));
  const body = workRequest(false);
  const logger = makeLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  const runner = makeModuleRunner({ handler: () => undefined }, { timeoutMs: 300_000, maxOutputBytes: 65_536, logger });
  const metrics = makeMetrics();
  const counter = metrics.deliveries.labels('success', '200');
  const histogram = metrics.duration.labels('success');
  const delivery = readDelivery(headers);
  const decoded = decodeBody(body);
  const policy = { maxAttempts: 20, hasNext: false, hasDeadLetter: false, hasNotifier: false, hasDefaultWebhook: false };
  const ctx = {
    attempt: 1,
    maxAttempts: 20,
    retryCount: 0,
    executionCount: 0,
    queue: 'incoming',
    taskName: '1234567890123456789',
    tier: 1,
    signal: new AbortController().signal,
    logger,
  };
  const steps: [string, () => unknown][] = [
    ['read delivery headers', () => readDelivery(headers)],
    ['trace fields', () => traceFields(headers, 'bench-project')],
    ['decode binary SvcWorkRequest', () => decodeBody(body)],
    ['run (module runner, no-op handler)', () => runner.run(decoded.job, ctx)],
    ['decide', () => decide({ outcome: { kind: 'success' }, attempt: delivery.attempt, jobHasWebhook: false, policy })],
    ['metrics (counter + histogram)', () => (counter.inc(), histogram.observe(0.0001))],
    [
      'one delivery log line',
      () => {
        // Built as the app builds it (facts, then the outcome): a spread here would cost pino 3x.
        const line: Record<string, unknown> = traceFields(headers, 'bench-project');
        line.tier = 1;
        line.queue = 'incoming';
        line.task = '1234567890123456789';
        line.attempt = 1;
        line.outcome = 'success';
        line.status = 200;
        line.action = 'ack';
        line.durationMs = 0;
        line.retryCount = 0;
        line.executionCount = 0;
        line.maxAttempts = 20;
        logger.info(line, 'delivery');
      },
    ],
  ];
  print('  push-path steps in isolation (CPU µs per call, this process):');
  let total = 0;
  for (const [name, step] of steps) {
    const calls = 40_000;
    // Yield to the event loop now and then, as a server does, so the log destination's writes
    // complete instead of piling up in its buffer.
    const loop = async (n: number) => {
      for (let i = 1; i <= n; i++) {
        await step();
        if (i % 20 === 0) await new Promise((r) => setImmediate(r));
      }
    };
    await loop(5_000);
    const before = process.cpuUsage();
    await loop(calls);
    const used = process.cpuUsage(before);
    const micros = (used.user + used.system) / calls;
    total += micros;
    print(`    ${name.padEnd(36)} ${micros.toFixed(2).padStart(6)} µs`);
  }
  print(`    ${'sum'.padEnd(36)} ${total.toFixed(2).padStart(6)} µs`);
  await runner.close();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Runs the executor benchmark and prints its report. */
export async function run(): Promise<void> {
  const seconds = intEnv('BENCH_EXECUTOR_SECONDS', 3);
  const rounds = intEnv('BENCH_EXECUTOR_ROUNDS', 3);
  const connections = intEnv('BENCH_EXECUTOR_CONNECTIONS', 32);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const only = (process.env.BENCH_EXECUTOR_ONLY ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  const unknown = only.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`BENCH_EXECUTOR_ONLY: unknown target(s) ${unknown.join(', ')}; use ${TARGETS.join(', ')}`);
  const targets = TARGETS.filter((t) => (only.length === 0 ? !DIAGNOSTIC_TARGETS.includes(t) : t === 'bare' || only.includes(t)));

  const { ready, cpuMicros, stop } = await spawnTargets();
  try {
    const bodies = { plain: workRequest(false), webhook: workRequest(true) };
    const load = async (target: Target, duration: number): Promise<AutocannonResult> => {
      const result = await autocannon({
        url: `${ready.urls[target]}/`,
        method: 'POST',
        headers: headersFor(target, ready.token),
        body: target === 'executor+webhook' ? bodies.webhook : bodies.plain,
        connections,
        duration,
        pipelining: 1,
      });
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(`${target}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts — the figures would be meaningless`);
      }
      return result;
    };

    print('== executor ==');
    print(
      `push path vs a bare Fastify route: binary SvcWorkRequest with X-CloudTasks-* headers, module runner returning at once; ` +
        `${connections} connections, ${rounds} rounds of ${seconds} s per target, alternating; Node ${process.version}`,
    );
    // Warm-up: JIT and connection pools, not measured.
    for (const target of targets) await load(target, 1);

    const rps = new Map<Target, number[]>(targets.map((t) => [t, []]));
    const p99 = new Map<Target, number[]>(targets.map((t) => [t, []]));
    const cpu = new Map<Target, number[]>(targets.map((t) => [t, []]));
    // Kernel time per request, reported apart: it grows when the server is the bottleneck (more
    // wake-ups of the load generator per request), not only with the server's own work.
    const sys = new Map<Target, number[]>(targets.map((t) => [t, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so drift on a shared machine does not favour one target.
      const order = round % 2 === 0 ? [...targets] : [...targets].reverse();
      for (const target of order) {
        const before = await cpuMicros();
        const r = await load(target, seconds);
        const after = await cpuMicros();
        cpu.get(target)!.push((after.user + after.system - before.user - before.system) / r.requests.total);
        sys.get(target)!.push((after.system - before.system) / r.requests.total);
        rps.get(target)!.push(r.requests.total / r.duration);
        p99.get(target)!.push(r.latency.p99);
      }
    }

    const bareRps = median(rps.get('bare')!);
    const bareP99 = median(p99.get('bare')!);
    const bareCpu = median(cpu.get('bare')!);
    for (const target of targets) {
      const t = median(rps.get(target)!);
      const l = median(p99.get(target)!);
      const c = median(cpu.get(target)!);
      const ratio =
        target === 'bare'
          ? ''
          : `   throughput ratio ${(t / bareRps).toFixed(2)}   p99 ratio ${(l / Math.max(bareP99, 1)).toFixed(2)}   CPU ratio ${(bareCpu / c).toFixed(2)}`;
      const verdict = target === 'executor' ? `   target >= 0.80: ${t / bareRps >= 0.8 ? 'met' : 'NOT met'}` : '';
      print(`  ${target.padEnd(17)} ${t.toFixed(0).padStart(7)} req/s   p99 ${l.toFixed(0).padStart(3)} ms   ${c.toFixed(0).padStart(4)} µs CPU/req (${median(sys.get(target)!).toFixed(0).padStart(2)} sys)${ratio}${verdict}`);
    }
    print('  (CPU ratio = bare CPU per request / target CPU per request: the throughput ratio a CPU-bound server would reach, less distorted by other load on the machine)');
    print(`  (per round, req/s: ${targets.map((t) => `${t} ${rps.get(t)!.map((x) => x.toFixed(0)).join('/')}`).join('; ')})`);
  } finally {
    await stop();
  }
  // In a fresh process: this one's heap (autocannon's histograms) would distort the small figures.
  if (process.env.BENCH_EXECUTOR_BREAKDOWN !== '0') {
    const child = spawn(process.execPath, ['--import', 'tsx', THIS_FILE], {
      cwd: ROOT,
      env: { ...process.env, BENCH_EXECUTOR_ROLE: 'breakdown' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`the breakdown process exited ${code}`);
  }
}

// ---- entry points ------------------------------------------------------------------------------

const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isMain && process.env.BENCH_EXECUTOR_ROLE === 'breakdown') {
  breakdown((line) => process.stdout.write(`${line}\n`)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench/executor breakdown: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (isMain && process.env.BENCH_EXECUTOR_ROLE === 'targets') {
  // The child: serve until told to stop.
  void startTargets().then(
    (targets) => {
      process.stdout.write(`${JSON.stringify({ urls: targets.urls, token: targets.token } satisfies TargetsReady)}\n`);
      // The parent asks for CPU time around each round: CPU per request is the figure a busy
      // shared machine distorts least.
      process.on('message', () => process.send?.(process.cpuUsage()));
      const stop = () => void targets.close().finally(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`bench/executor targets: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (isMain && process.env.BENCH_EXECUTOR_TARGETS_ONLY === '1') {
  void startTargets().then((targets) => {
    process.stdout.write(`${JSON.stringify({ urls: targets.urls, token: targets.token }, null, 2)}\n`);
    process.once('SIGINT', () => void targets.close().finally(() => process.exit(0)));
  });
} else if (isMain) {
  run().catch((err: unknown) => {
    process.stderr.write(`bench/executor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
