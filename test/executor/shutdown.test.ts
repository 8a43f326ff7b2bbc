/**
 * Graceful shutdown: in-process through startExecutor, and end to end by spawning `executor serve`
 * and sending it SIGTERM.
 */
import { spawn } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutor } from '../../src/executor/index.js';
import { captureLogger, pushHeaders, scriptedRunner, testConfig } from '../helpers/executor-fixtures.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const noTasks = { createTask: async () => [{}] };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A POST through node:http, whose answer keeps every header (fetch hides Connection). */
function rawRequest(port: number, body: string, headers: Record<string, string> = pushHeaders()) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (url: string, headers: Record<string, string> = pushHeaders()) =>
  fetch(url, { method: 'POST', body: '{"payload":1}', headers: { 'content-type': 'application/json', ...headers } });

describe('startExecutor', () => {
  it('listens on a random port and reports it, without a "Server listening" line per interface', async () => {
    const log = captureLogger('info');
    const ex = await startExecutor(testConfig(), { runner: scriptedRunner(), tasksClient: noTasks, logger: log.logger });
    try {
      expect(log.lines.filter((l) => /listening/i.test(String(l.message)))).toEqual([]);
      expect(log.logger.level).toBe('info');
      expect(ex.port).toBeGreaterThan(0);
      expect(ex.url).toBe(`http://127.0.0.1:${ex.port}`);
      expect((await fetch(`${ex.url}/health`)).status).toBe(200);
    } finally {
      await ex.close();
    }
  });

  it('on close, refuses new pushes with 503 + Retry-After and lets the in-flight one finish', async () => {
    const release = deferred();
    const started = deferred();
    const runner = scriptedRunner(async () => {
      started.resolve();
      await release.promise;
      return { kind: 'success' };
    });
    const ex = await startExecutor(testConfig({ shutdownGraceMs: 10_000 }), { runner, tasksClient: noTasks, logger: captureLogger().logger });
    const inFlight = post(ex.url);
    await started.promise;
    const closed = ex.close();
    const refused = await post(ex.url, pushHeaders({ task: 'late' }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect((await refused.json()) as unknown).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
    expect((await fetch(`${ex.url}/health`)).status).toBe(503);
    release.resolve();
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(runner.calls).toHaveLength(1);
  });

  it('aborts work still running when the grace period ends, then closes', async () => {
    const started = deferred();
    let sawAbort = false;
    const runner = scriptedRunner(
      (_job, ctx) =>
        new Promise((resolve) => {
          started.resolve();
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve({ kind: 'retryable', error: { type: 'Aborted', message: 'shutdown' } });
          });
        }),
    );
    const log = captureLogger();
    const ex = await startExecutor(testConfig({ shutdownGraceMs: 300 }), { runner, tasksClient: noTasks, logger: log.logger });
    const inFlight = post(ex.url);
    await started.promise;
    await ex.close();
    expect(sawAbort).toBe(true);
    expect((await inFlight).status).toBe(409);
    expect(log.lines.some((l) => String(l.message).includes('grace period ended'))).toBe(true);
  });

  it('answers a push whose work ignores the abort with 503 + Retry-After + Connection: close, and still closes', async () => {
    const started = deferred();
    // Never settles and never looks at ctx.signal.
    const runner = scriptedRunner(() => {
      started.resolve();
      return new Promise(() => {});
    });
    const ex = await startExecutor(testConfig({ shutdownGraceMs: 100 }), { runner, tasksClient: noTasks, logger: captureLogger().logger });
    const inFlight = rawRequest(ex.port, '{"payload":1}');
    await started.promise;
    await ex.close();
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('10');
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
  });

  it('while draining, answers every push with Connection: close, so no next push on it can be cut off', async () => {
    const release = deferred();
    const started = deferred();
    const runner = scriptedRunner(async () => {
      started.resolve();
      await release.promise;
      return { kind: 'success' };
    });
    const ex = await startExecutor(testConfig({ shutdownGraceMs: 10_000 }), { runner, tasksClient: noTasks, logger: captureLogger().logger });
    const inFlight = rawRequest(ex.port, '{"payload":1}');
    await started.promise;
    const closed = ex.close();
    const refused = await rawRequest(ex.port, '{"payload":2}');
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    release.resolve();
    const done = await inFlight;
    expect(done.status).toBe(200);
    expect(done.headers.connection).toBe('close');
    await closed;
  });

  it('answers 408 to a client that sends its body too slowly, and a slow client does not hold up close', async () => {
    const runner = scriptedRunner();
    const ex = await startExecutor(testConfig(), { runner, tasksClient: noTasks, logger: captureLogger().logger, requestTimeoutMs: 200 });
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`;
    const slow = connect(ex.port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      slow.on('data', (d: Buffer) => (text += d.toString()));
      slow.on('close', () => resolve(text));
    });
    slow.write(head);
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
    expect(runner.calls).toHaveLength(0);

    // Another one, still sending when the server closes: close does not wait for it.
    const stuck = connect(ex.port, '127.0.0.1');
    const stuckClosed = new Promise<void>((resolve) => stuck.on('close', () => resolve()));
    stuck.on('error', () => {});
    stuck.resume();
    await new Promise<void>((resolve) => stuck.write(head, () => resolve()));
    await ex.close();
    await stuckClosed;
  });

  it('does not time out work that runs longer than the request timeout once the body has arrived', async () => {
    const runner = scriptedRunner(async () => {
      await new Promise((r) => setTimeout(r, 1200));
      return { kind: 'success' };
    });
    const ex = await startExecutor(testConfig(), { runner, tasksClient: noTasks, logger: captureLogger().logger, requestTimeoutMs: 200 });
    try {
      expect((await post(ex.url)).status).toBe(200);
    } finally {
      await ex.close();
    }
  });

  it('closes the runner it created, not one it was given', async () => {
    const given = scriptedRunner();
    const ex = await startExecutor(testConfig(), { runner: given, tasksClient: noTasks, logger: captureLogger().logger });
    await ex.close();
    expect(given.closed).toBe(false);
  });
});

describe('executor serve (a real process)', () => {
  const NOTIFIER = 'projects/p/locations/l/queues/notifier';
  let emulated: EmulatedTasks;
  beforeAll(async () => {
    emulated = await startEmulatedTasks([NOTIFIER]);
  });
  afterAll(async () => {
    await emulated.close();
  });

  function serve(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('serves /health, runs the demo work, and exits 0 on SIGTERM', async () => {
    const p = serve({
      WORKER_MODULE: 'demo',
      AUTH_DISABLED: 'true',
      PORT: '0',
      HOST: '127.0.0.1',
      CLOUD_TASKS_EMULATOR_HOST: emulated.host,
      GOOGLE_CLOUD_PROJECT: 'p',
      NOTIFIER_QUEUE: 'notifier',
      NOTIFIER_LOCATION: 'l',
      SHUTDOWN_GRACE_SECONDS: '2',
    });
    try {
      let port: number | undefined;
      for (let i = 0; i < 300 && port === undefined; i++) {
        const m = /"port":(\d+)[^\n]*executor listening/.exec(p.out());
        if (m) port = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(port, `stdout: ${p.out()}\nstderr: ${p.err()}`).toBeDefined();
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const body = JSON.stringify({ sourceFile: 'gs://b/ok.txt', webhookUrl: 'http://127.0.0.1:9/hook', context: { id: 'c' } });
      const res = await post(url, { ...pushHeaders({ task: 'spawned' }) });
      expect(res.status).toBe(200);
      const res2 = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...pushHeaders({ task: 'spawned-2' }) } });
      expect(res2.status).toBe(200);
      expect((await emulated.tasks(NOTIFIER)).length).toBeGreaterThan(0);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.out()).toContain('stopped');
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('prints every configuration problem and exits 1', async () => {
    const p = serve({ MAX_ATTEMPTS: 'abc', PORT: 'x', WORKER_URL: 'not a url' });
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain('MAX_ATTEMPTS must be a positive integer');
    expect(p.err()).toContain('PORT');
    expect(p.err()).toContain('WORKER_URL');
  });
});
