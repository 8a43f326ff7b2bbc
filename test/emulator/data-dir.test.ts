// The data directory's log, folded back into engine state: the pure part of --data-dir, and the
// start-up path on a real directory (compaction, a torn last line, a damaged file).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldLog, openDataDir } from '../../src/emulator/data-dir.js';
import { Engine } from '../../src/emulator/engine/engine.js';
import { startEmulator } from '../../src/emulator/index.js';
import { testEngineOptions } from '../helpers/engine-options.js';

const Q = 'projects/p/locations/l/queues/q';
const queueLine = JSON.stringify({ op: 'queue', record: { name: Q, rateLimits: { maxDispatchesPerSecond: 5, maxBurstSize: 10, maxConcurrentDispatches: 3 }, retryConfig: { maxAttempts: 2, maxRetryDurationMs: 0, minBackoffMs: 100, maxBackoffMs: 1000, maxDoublings: 16 }, state: 'PAUSED' } });
const task = (id: string, named: boolean, seq: number): string =>
  JSON.stringify({
    op: 'task',
    task: { name: `${Q}/tasks/${id}`, id, queueName: Q, http: { url: 'http://127.0.0.1:9/', httpMethod: 'POST', headers: {}, body: Buffer.from(id).toString('base64') }, scheduleTimeMs: 1000, createTimeMs: 1000, dispatchDeadlineMs: 600_000, dispatchCount: 0, responseCount: 0, executionCount: 0, named, seq, gen: 0, scheduled: true, inFlight: 0, gone: false },
  });

describe('foldLog', () => {
  it('replays tasks with their progress, releases names on removal and on purge', () => {
    const state = foldLog(
      [
        queueLine,
        task('a', true, 1),
        task('b', false, 2),
        JSON.stringify({ op: 'progress', task: { name: `${Q}/tasks/b`, scheduleTimeMs: 5000, dispatchCount: 1, responseCount: 1, executionCount: 0, previousResponse: 500 } }),
        JSON.stringify({ op: 'task-removed', name: `${Q}/tasks/a`, named: true, at: 2000 }),
        task('c', true, 3),
        JSON.stringify({ op: 'queue-purged', name: Q, at: 3000 }),
        task('d', false, 4),
        '',
      ].join('\n'),
      false,
    );
    expect(state.queues.map((q) => [q.name, q.state])).toEqual([[Q, 'PAUSED']]);
    expect(state.tasks.map((t) => [t.id, t.http.body?.toString()])).toEqual([['d', 'd']]);
    expect(state.releasedNames).toEqual([[`${Q}/tasks/a`, 2000], [`${Q}/tasks/c`, 3000]]);
  });

  it('keeps the progress of a task that is still there', () => {
    const state = foldLog([queueLine, task('b', false, 2), JSON.stringify({ op: 'progress', task: { name: `${Q}/tasks/b`, scheduleTimeMs: 5000, dispatchCount: 2, responseCount: 1, executionCount: 0 } })].join('\n'), false);
    expect(state.tasks[0]).toMatchObject({ scheduleTimeMs: 5000, dispatchCount: 2, responseCount: 1 });
  });

  it('forgets a deleted queue and its tasks, and reserves its name', () => {
    const state = foldLog([queueLine, task('a', true, 1), JSON.stringify({ op: 'queue-deleted', name: Q, at: 4000 })].join('\n'), false);
    expect(state).toEqual({ queues: [], tasks: [], releasedNames: [], deletedQueues: [[Q, 4000]] });
  });

  it('skips a torn last line (the process died mid-write) but refuses damage elsewhere', () => {
    expect(foldLog(`${queueLine}\n${task('a', false, 1).slice(0, 40)}`, false).tasks).toEqual([]);
    expect(() => foldLog(`${queueLine}\nnot json\n${task('a', false, 1)}\n`, false)).toThrow(/line 2 is not a log entry/);
  });
});

describe('startEmulator({ dataDir })', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-data-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('brings back queues and tasks after a close, and compacts the log at start', async () => {
    const first = await startEmulator({ dataDir: dir });
    const post = (e: typeof first, path: string, body: unknown): Promise<Response> => fetch(`${e.url}/v2/${path}`, { method: 'POST', body: JSON.stringify(body) });
    const parent = 'projects/p/locations/l';
    expect((await post(first, `${parent}/queues`, { name: `${parent}/queues/q` })).status).toBe(200);
    expect((await post(first, `${parent}/queues/q:pause`, {})).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(first, `${parent}/queues/q/tasks`, { task: { httpRequest: { url: 'http://127.0.0.1:9/', body: 'aGk=' } } })).status).toBe(200);
    await first.close();
    const logged = (await readFile(join(dir, 'emulator.wal'), 'utf8')).trim().split('\n');
    expect(logged).toHaveLength(1 + 1 + 3); // created, paused, three tasks

    const second = await startEmulator({ dataDir: dir });
    try {
      const tasks = (await (await fetch(`${second.url}/v2/${parent}/queues/q/tasks?responseView=FULL`)).json()) as { tasks: Array<{ httpRequest: { body: string } }> };
      expect(tasks.tasks.map((t) => t.httpRequest.body)).toEqual(['aGk=', 'aGk=', 'aGk=']);
      expect(((await (await fetch(`${second.url}/v2/${parent}/queues/q`)).json()) as { state: string }).state).toBe('PAUSED');
    } finally {
      await second.close();
    }
    // Compacted: one line for the queue, one per task.
    expect((await readFile(join(dir, 'emulator.wal'), 'utf8')).trim().split('\n')).toHaveLength(1 + 3);
  });

  it('refuses to start on a damaged log instead of dropping what it holds', async () => {
    await writeFile(join(dir, 'emulator.wal'), '{"op":"queue"}\n{"op":"queue","record":{"name":"x"}}\n');
    await expect(startEmulator({ dataDir: dir })).rejects.toThrow(/emulator\.wal line 1 is not a log entry/);
  });
});

describe('openDataDir compaction', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-data-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const engine = (): Engine =>
    new Engine(testEngineOptions({
      push: async () => ({ kind: 'response', status: 200 }),
    }));
  const options = { resetNamesOnPurge: false, dedupWindowMs: 60_000, queueNameReserveMs: 0, now: Date.now, compactAfterBytes: 20_000 };

  /** Runs 500 named tasks through a fresh engine on `path` in batches; returns the log's size. */
  const run = async (path: string, compactAfterBytes: number): Promise<number> => {
    const e = engine();
    const data = openDataDir(path, e, { ...options, compactAfterBytes });
    e.createQueue('projects/p/locations/l', { name: Q });
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 50; i++) e.createTask(Q, { name: `${Q}/tasks/t${batch * 50 + i}`, http: { url: 'http://127.0.0.1:9/', httpMethod: 'POST', headers: {} } });
      await e.waitForIdle();
    }
    data.close();
    e.close();
    return (await stat(join(path, 'emulator.wal'))).size;
  };

  it('rewrites the log while running, so finished tasks do not make it grow without bound', async () => {
    const uncompacted = await run(join(dir, 'never'), Infinity);
    const compacted = await run(join(dir, 'compacted'), 20_000);
    expect(compacted).toBeLessThan(uncompacted / 3);

    const second = engine();
    openDataDir(join(dir, 'compacted'), second, options).close();
    expect(second.listTasks(Q).items).toEqual([]);
    // The finished tasks' names survived the compactions.
    for (const id of ['t0', 't499']) {
      expect(() => second.createTask(Q, { name: `${Q}/tasks/${id}`, http: { url: 'http://127.0.0.1:9/', httpMethod: 'POST', headers: {} } }), id).toThrow(/exist/i);
    }
    second.close();
  });
});
