/** The `executor` command line as a shell sees it: --version, suggestions, exit codes, where usage goes. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeArgsError, nearest, nearMissVariables } from '../src/suggest.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from the sources with a clean, explicit environment. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('the executor command', () => {
  it('prints its version with --version and exits 0', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('suggests the nearest command for a typo, with the usage on stderr, and exits 2', async () => {
    const r = await cli(['serv']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown command 'serv'/);
    expect(r.stderr).toMatch(/Did you mean serve\?/);
    expect(r.stderr).toMatch(/Usage: executor/);
  });

  it("suggests the nearest option of a subcommand and exits 2: a usage error, not a failure", async () => {
    const dev = await cli(['dev', '--jbos', '3']);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toMatch(/unknown option '--jbos' \(did you mean --jobs\?\)/);
    const emulator = await cli(['emulator', '--prot', '1']);
    expect(emulator.code).toBe(2);
    expect(emulator.stderr).toMatch(/did you mean --port\?/);
    const badValue = await cli(['submit', '--count', 'many']);
    expect(badValue.code).toBe(2);
  });

  it("'help COMMAND' shows that command's own full help", async () => {
    const r = await cli(['help', 'dev']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--worker-module FILE/);
  });
});

describe('executor queues and tasks', () => {
  let closed: number;
  beforeAll(async () => {
    // A port nothing listens on: the call fails at once, a runtime failure.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closed = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('exits 2 with every usage problem on stderr, before any call', async () => {
    const r = await cli(['queues', 'update', 'q', '--max-attempts', 'many', '--format', 'xml'], { CLOUD_TASKS_EMULATOR_HOST: `127.0.0.1:${closed}` });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--max-attempts must be a positive integer or -1 \(unlimited\), got 'many'/);
    expect(r.stderr).toMatch(/--format must be one of/);
  });

  it('exits 2 on a misspelled subcommand, naming the nearest', async () => {
    const r = await cli(['tasks', 'lst', '--queue', 'q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did you mean list\?/);
  });

  it('exits 1 with what to do when the emulator cannot be reached', async () => {
    const r = await cli(['queues', 'list', '--emulator', `127.0.0.1:${closed}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach the emulator at 127\.0\.0\.1:\d+/);
  });

  it('exits 2 when purge has no terminal to confirm on and no --quiet', async () => {
    const r = await cli(['queues', 'purge', 'incoming', '--emulator', `127.0.0.1:${closed}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --quiet/);
  });

  it('prints its help with every flag and exits 0', async () => {
    const r = await cli(['queues', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--max-attempts', '--max-retry-duration', '--min-backoff', '--max-backoff', '--max-doublings', '--max-dispatches-per-second', '--max-concurrent-dispatches', '--quiet', '--format']) {
      expect(r.stdout).toContain(flag);
    }
    expect((await cli(['help', 'tasks'])).stdout).toMatch(/--response-view/);
  });
});

describe('executor serve', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as AddressInfo).port;
  });
  afterAll(() => busy.close());

  const base = { WORKER_MODULE: 'demo', AUTH_DISABLED: 'true', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };

  it('warns about a variable that is nearly one of its own, and says a port in use in one line (exit 1)', async () => {
    const r = await cli(['serve'], { ...base, PORT: String(port), MAX_ATTEMPT: '5' });
    expect(r.stderr).toMatch(/warning: MAX_ATTEMPT is not a variable of executor serve \(ignored\); did you mean MAX_ATTEMPTS\?/);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('warning:'));
    expect(lines).toEqual([`executor: cannot listen on 127.0.0.1:${port}: the port is in use (another executor or 'executor dev' still running?). Stop it, or set PORT to a free port`]);
    expect(r.code).toBe(1);
  });

  it('reports every configuration problem in one message, bad values and missing partners alike (exit 1)', async () => {
    const r = await cli(['serve'], { WORKER_MODULE: 'demo', AUTH_DISABLED: 'true', LOG_LEVEL: 'silent', MAX_ATTEMPTS: 'three', PROBLEM_QUEUE: 'projects/p/locations/l/queues/q' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MAX_ATTEMPTS must be a positive integer, got 'three'/);
    expect(r.stderr).toMatch(/PROBLEM_QUEUE is set but PROBLEM_SERVICE is not/);
    expect(r.stderr.match(/^executor: /gm)).toHaveLength(1);
  });

  it('lists every variable in --help', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const v of ['PORT', 'MAX_ATTEMPTS', 'WORKER_TIMEOUT_SECONDS', 'SHUTDOWN_GRACE_SECONDS']) expect(r.stdout).toContain(v);
  });
});

describe('suggestions', () => {
  it('offer a near name only: one edit for short names, two for long ones (flags: from 4 characters)', () => {
    expect(nearest('MAX_ATTEMPT', ['MAX_ATTEMPTS', 'PORT'])).toBe('MAX_ATTEMPTS');
    expect(nearest('max_attempts', ['MAX_ATTEMPTS'])).toBe('MAX_ATTEMPTS');
    expect(nearest('HOME', ['HOST', 'PORT'])).toBeUndefined();
    expect(nearest('jbos', ['jobs', 'json'], 4)).toBe('jobs');
    expect(nearest('zzzz', ['jobs'], 4)).toBeUndefined();
  });

  it('find the near-miss variables of an environment, never our own or unrelated ones', () => {
    const env = { MAX_ATTEMPTS: '3', MAX_ATTEMPT: '3', HOME: '/root', PATH: '/bin', WORKER_MODUEL: 'x' };
    expect(nearMissVariables(env, ['MAX_ATTEMPTS', 'HOST', 'PORT', 'WORKER_MODULE'])).toEqual([
      { given: 'MAX_ATTEMPT', meant: 'MAX_ATTEMPTS' },
      { given: 'WORKER_MODUEL', meant: 'WORKER_MODULE' },
    ]);
  });

  it('word an unknown option with its nearest flag, and keep other parse errors as they are', () => {
    const unknown = Object.assign(new Error("Unknown option '--jbos'. To specify a positional argument…"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    expect(describeArgsError(unknown, ['jobs'])).toBe("unknown option '--jbos' (did you mean --jobs?)");
    expect(describeArgsError(new Error('Option --port requires a value'), ['port'])).toBe('Option --port requires a value');
  });
});
