/**
 * The chain of the local stack as separate processes, for chaos runs: the emulator (`executor
 * emulator` with local/queues.yaml), executor tier 2 and tier 1 (`executor serve`, MAX_ATTEMPTS=3,
 * OIDC on, tier 1 forwarding to tier 2), a TCP proxy between the tiers and the emulator's gRPC
 * port, and the recording webhook in this process. Everything listens on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultRuleInput } from '../../src/emulator/index.js';
import { LOCAL_LOCATION, LOCAL_PROJECT, WEBHOOK_PATH } from '../../src/local/defaults.js';
import { STACK_QUEUES } from '../../src/local/queues-check.js';
import { tierEnv } from '../../src/local/stack.js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { newTasksClient } from '../../src/queues/tasks-client.js';
import { startWebhook, type Webhook } from '../../src/local/webhook.js';
import { startProxy, type Proxy } from './proxy.js';
import type { Accepted } from './verdict.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'src/cli.ts');
const QUEUES_FILE = join(REPO, 'local/queues.yaml');
/** Every tier's budget, as in `executor dev` and docker-compose.yml. */
export const MAX_ATTEMPTS = 3;

/** One `executor serve` process that can be killed and started again on the same port. */
export interface TierProcess {
  readonly tier: number;
  readonly url: string;
  /** SIGKILL: no shutdown, in-flight pushes die with it. */
  kill(): Promise<void>;
  /** Starts it again (same port, same environment); resolves once it answers /health. */
  start(): Promise<void>;
}

/** The running chain. */
export interface Chain {
  /** `127.0.0.1:port` of the emulator (the runner's own client talks to it directly). */
  readonly emulatorAddress: string;
  readonly tiers: readonly [TierProcess, TierProcess];
  readonly proxy: Proxy;
  /** The runner's client (submission, RunTask, listing). */
  readonly client: CloudTasksClient;
  /** Where jobs' notifications go. */
  readonly webhookUrl: string;
  /** Full path of a stack queue by role. */
  queue(role: keyof typeof STACK_QUEUES): string;
  /** Accepted notifications by job id. */
  readonly accepted: Map<string, Accepted[]>;
  /** Probability (0–1) that the webhook refuses a notification with 500. */
  flap: number;
  /** Adds a fault rule through the emulator's REST control endpoint; returns its id. */
  addFault(rule: FaultRuleInput): Promise<string>;
  /** Clears every fault rule. */
  clearFaults(): Promise<void>;
  /** Whether the three work queues hold no task (nothing queued, nothing in flight). */
  drained(): Promise<boolean>;
  /** Where the processes' logs are. */
  readonly logDir: string;
  /** A process that exited without being told to, if any. */
  crashed(): string | undefined;
  close(): Promise<void>;
}

/** A free loopback port (bound and released; the OS does not hand it out again at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; throws after `timeoutMs` or when `dead()` says the process exited. */
async function waitHealthy(url: string, what: string, dead: () => string | undefined, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const exited = dead();
    if (exited !== undefined) throw new Error(`${what} exited before it was ready: ${exited}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${what} not healthy at ${url} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A child process of the CLI, its output appended to `log`. */
function spawnCli(args: string[], env: Record<string, string>, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO,
      // A clean environment: nothing of this shell (credentials, NODE_OPTIONS of a test runner) leaks in.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
}

/** Starts the chain; `logDir` receives emulator.log, tier-1.log, tier-2.log. */
/** How a chain is started. */
export interface ChainOptions {
  /** Where the processes' logs go. */
  logDir: string;
  /** Log level of the processes (default info). */
  logLevel?: string;
  /** The emulator's system throttling (default off: the scenarios test outcomes, not timing). */
  throttling?: 'model' | 'off';
  /** The tiers' RETRY_AFTER_SECONDS (default 10, the executor's own default). */
  retryAfterSeconds?: number;
}

export async function startChain(options: ChainOptions): Promise<Chain> {
  mkdirSync(options.logDir, { recursive: true });
  const logLevel = options.logLevel ?? 'info';
  const children = new Set<ChildProcess>();
  let crash: string | undefined;
  const watch = (child: ChildProcess, what: string, expected: () => boolean): void => {
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!expected()) crash ??= `${what} exited (code ${code}, signal ${signal}); see ${options.logDir}`;
    });
  };

  const cleanups: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    const emulatorPort = await freePort();
    const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    let stopping = false;
    const emulator = spawnCli(
      ['emulator', '--host', '127.0.0.1', '--port', String(emulatorPort), '--queues', QUEUES_FILE, '--log-level', logLevel, '--throttling', options.throttling ?? 'off'],
      {},
      join(options.logDir, 'emulator.log'),
    );
    watch(emulator, 'the emulator', () => stopping);
    cleanups.push(async () => {
      stopping = true;
      await stopChild(emulator);
    });
    await waitHealthy(`${emulatorUrl}/healthz`, 'the emulator', () => crash);
    const emulatorAddress = `127.0.0.1:${emulatorPort}`;

    const accepted = new Map<string, Accepted[]>();
    const chain = { flap: 0 };
    const webhook: Webhook = await startWebhook({
      accept: () => chain.flap === 0 || Math.random() >= chain.flap,
      onNotification: (n, delivery) => {
        if (n.jobId === undefined) return;
        const list = accepted.get(n.jobId) ?? [];
        list.push({
          task: delivery.task ?? '(no task name)',
          outcome: n.outcome,
          ...(n.tier !== undefined ? { tier: n.tier } : {}),
          ...(n.attempts !== undefined ? { attempts: n.attempts } : {}),
          ...(n.error?.type ? { errorType: n.error.type } : {}),
        });
        accepted.set(n.jobId, list);
      },
    });
    cleanups.push(() => webhook.close());

    const proxy = await startProxy({ host: '127.0.0.1', port: emulatorPort });
    cleanups.push(() => proxy.close());

    const env = {
      host: '127.0.0.1',
      project: LOCAL_PROJECT,
      location: LOCAL_LOCATION,
      webhookUrl: webhook.url,
      // The tiers reach Cloud Tasks through the proxy; OIDC keys they fetch from the emulator directly.
      emulator: { address: proxy.address, issuer: emulatorUrl, jwksUrl: `${emulatorUrl}/.well-known/jwks.json` },
      logLevel,
    };
    const makeTier = (tier: number, port: number, next?: string): TierProcess => {
      const url = `http://127.0.0.1:${port}`;
      const tierEnvironment = {
        ...tierEnv(env, { tier, port, maxAttempts: MAX_ATTEMPTS, ...(next !== undefined ? { next } : {}) }),
        RETRY_AFTER_SECONDS: String(options.retryAfterSeconds ?? 10),
      };
      let child: ChildProcess | undefined;
      let killing = false;
      const handle: TierProcess = {
        tier,
        url,
        async start() {
          killing = false;
          const c = spawnCli(['serve'], tierEnvironment, join(options.logDir, `tier-${tier}.log`));
          child = c;
          watch(c, `tier ${tier}`, () => killing || stopping);
          await waitHealthy(`${url}/health`, `tier ${tier}`, () => crash);
        },
        async kill() {
          killing = true;
          if (child !== undefined) await stopChild(child, 'SIGKILL');
          child = undefined;
        },
      };
      cleanups.push(async () => {
        killing = true;
        if (child !== undefined) await stopChild(child);
      });
      return handle;
    };
    // Ports first: tier 1's PROBLEM_SERVICE is tier 2's URL; then both start side by side.
    const tier2 = makeTier(2, await freePort());
    const tier1 = makeTier(1, await freePort(), `${tier2.url}/`);
    await Promise.all([tier1.start(), tier2.start()]);

    const client = newTasksClient(emulatorAddress);
    cleanups.push(() => client.close());
    const queue = (role: keyof typeof STACK_QUEUES): string => `projects/${LOCAL_PROJECT}/locations/${LOCAL_LOCATION}/queues/${STACK_QUEUES[role]}`;
    const faultsUrl = `${emulatorUrl}/emulator/faults`;

    return {
      emulatorAddress,
      tiers: [tier1, tier2],
      proxy,
      client,
      webhookUrl: `${webhook.url}${WEBHOOK_PATH}`,
      queue,
      accepted,
      get flap() {
        return chain.flap;
      },
      set flap(p: number) {
        chain.flap = p;
      },
      async addFault(rule) {
        const res = await fetch(faultsUrl, { method: 'POST', body: JSON.stringify(rule) });
        const body = (await res.json()) as { id?: string; error?: { message: string } };
        if (!res.ok || body.id === undefined) throw new Error(`adding fault ${JSON.stringify(rule)} failed: ${body.error?.message ?? res.status}`);
        return body.id;
      },
      async clearFaults() {
        await fetch(faultsUrl, { method: 'DELETE' });
      },
      async drained() {
        for (const role of ['tier1', 'tier2', 'notifier'] as const) {
          const [tasks] = await client.listTasks({ parent: queue(role), pageSize: 1 }, { autoPaginate: false });
          if (tasks.length > 0) return false;
        }
        return true;
      },
      logDir: options.logDir,
      crashed: () => crash,
      close,
    };
  } catch (err) {
    await close();
    for (const c of children) c.kill('SIGKILL');
    throw err;
  }
}

/** Stops a child (SIGTERM by default, SIGKILL after 5 s) and resolves once it exited. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
