// `executor emulator --data-dir DIR`: the emulator process is killed with SIGKILL in the middle of
// a dispatch load and started again on the same directory. Every acknowledged task must still be
// there and be delivered; a task may be delivered twice only if its dispatch was in flight at the
// kill (Cloud Tasks is at-least-once), so duplicates are bounded by maxConcurrentDispatches.
// Queues keep their state and settings, tasks their attempts and schedule, and a finished named
// task's name stays reserved.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRestClient } from './helpers/clients.js';
import { apiError, LOCATION_PATH, toMs } from './helpers/harness.js';
import { header, sleep, startReceiver, type Receiver } from './helpers/receiver.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ALREADY_EXISTS = 6;
const TASKS = 200;
const MAX_CONCURRENT = 5;

interface Running {
  child: ChildProcess;
  port: number;
  exited: Promise<NodeJS.Signals | number | null>;
}

/** Starts `executor emulator --data-dir dir` on a random port; resolves once it prints its address. */
async function startChild(dir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'emulator', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, signal) => res(signal ?? code)));
  const port = await new Promise<number>((res, rej) => {
    const check = (): void => {
      const m = /export CLOUD_TASKS_EMULATOR_HOST=127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    };
    child.stdout.on('data', check);
    child.on('exit', () => rej(new Error(`emulator exited early; stdout: ${out}; stderr: ${err}`)));
  });
  return { child, port, exited };
}

/** Task names the receiver saw on `path`, with how many deliveries each got. */
function deliveries(receiver: Receiver, path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of receiver.at(path)) {
    const name = header(r, 'x-cloudtasks-taskname')!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('executor emulator --data-dir', () => {
  let dir: string;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-data-'));
    receiver = await startReceiver();
    receiver.on('/load', () => ({ delayMs: 10 }));
    receiver.on('/fail', () => ({ status: 500 }));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no task, attempt, schedule or reserved name when killed with SIGKILL mid-load', async () => {
    const first = await startChild(dir);
    children.push(first.child);
    let client: CloudTasksClient = makeRestClient({ host: '127.0.0.1', port: first.port });
    const queue = (id: string): string => `${LOCATION_PATH}/queues/${id}`;

    // A paused queue with a task due in an hour: both must come back as they were.
    await client.createQueue({ parent: LOCATION_PATH, queue: { name: queue('kept'), retryConfig: { maxAttempts: 7 } } });
    await client.pauseQueue({ name: queue('kept') });
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const [future] = await client.createTask({ parent: queue('kept'), task: { httpRequest: { url: `${receiver.url}/later` }, scheduleTime: { seconds: inAnHour } } });

    // A failed attempt: the task waits an hour for its retry, with its counters.
    await client.createQueue({ parent: LOCATION_PATH, queue: { name: queue('failing'), retryConfig: { minBackoff: { seconds: 3600 }, maxBackoff: { seconds: 3600 } } } });
    const [failing] = await client.createTask({ parent: queue('failing'), task: { httpRequest: { url: `${receiver.url}/fail` } } });
    await until('the failed attempt to be recorded', async () => Number((await client.getTask({ name: failing.name! }))[0].responseCount ?? 0) === 1);
    const [failedBefore] = await client.getTask({ name: failing.name!, responseView: 'FULL' });

    // A named task that has run: its name stays reserved.
    await client.createQueue({ parent: LOCATION_PATH, queue: { name: queue('names') } });
    const once = `${queue('names')}/tasks/once`;
    await client.createTask({ parent: queue('names'), task: { name: once, httpRequest: { url: `${receiver.url}/once` } } });
    await until('the named task to finish', async () => (await apiError(() => client.getTask({ name: once })).catch(() => undefined)) !== undefined);

    // The load: every creation answered before the kill must survive it.
    await client.createQueue({
      parent: LOCATION_PATH,
      queue: { name: queue('load'), rateLimits: { maxDispatchesPerSecond: 50, maxConcurrentDispatches: MAX_CONCURRENT } },
    });
    await client.pauseQueue({ name: queue('load') });
    const created: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const [t] = await client.createTask({ parent: queue('load'), task: { httpRequest: { url: `${receiver.url}/load`, body: Buffer.from(`task ${i}`) } } });
      created.push(t.name!);
    }
    await client.resumeQueue({ name: queue('load') });
    await until('a third of the load to be delivered', () => receiver.at('/load').length >= TASKS / 3);
    await client.close();
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const deliveredBeforeKill = deliveries(receiver, '/load').size;
    expect(deliveredBeforeKill).toBeLessThan(TASKS);

    const second = await startChild(dir);
    children.push(second.child);
    client = makeRestClient({ host: '127.0.0.1', port: second.port });
    try {
      await until('every task to be delivered after the restart', () => deliveries(receiver, '/load').size === TASKS);
      const counts = deliveries(receiver, '/load');
      expect([...counts.keys()].sort()).toEqual(created.map((n) => n.split('/').pop()!).sort());
      // At-least-once: only dispatches in flight at the kill may be repeated, once each.
      const repeated = [...counts.values()].filter((n) => n > 1);
      expect(repeated.every((n) => n === 2)).toBe(true);
      expect(repeated.length).toBeLessThanOrEqual(MAX_CONCURRENT);
      expect(new Set(receiver.at('/load').map((r) => r.body.toString())).size).toBe(TASKS);

      const [kept] = await client.getQueue({ name: queue('kept') });
      expect(kept.state).toBe('PAUSED');
      expect(kept.retryConfig?.maxAttempts).toBe(7);
      const [futureAfter] = await client.getTask({ name: future.name! });
      expect(toMs(futureAfter.scheduleTime)).toBe(toMs(future.scheduleTime));

      const [failedAfter] = await client.getTask({ name: failing.name!, responseView: 'FULL' });
      expect(failedAfter).toMatchObject({ dispatchCount: 1, responseCount: 1 });
      expect(toMs(failedAfter.scheduleTime)).toBe(toMs(failedBefore.scheduleTime));
      expect(toMs(failedAfter.lastAttempt?.dispatchTime)).toBe(toMs(failedBefore.lastAttempt?.dispatchTime));
      expect(failedAfter.lastAttempt?.responseStatus?.code).toBe(failedBefore.lastAttempt?.responseStatus?.code);

      expect(await apiError(() => client.createTask({ parent: queue('names'), task: { name: once, httpRequest: { url: `${receiver.url}/once` } } }))).toMatchObject({
        code: ALREADY_EXISTS,
      });
    } finally {
      await client.close();
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 120_000);
});
