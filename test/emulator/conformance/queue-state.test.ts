// Pins queue state and task-control calls.
// PauseQueue: "If a queue is paused then the system will stop dispatching tasks until the queue is
// resumed via ResumeQueue. Tasks can still be added when the queue is paused."
// PurgeQueue: "All tasks created before this method is called are permanently deleted."
// RunTask: dispatches "even if the task is already running, the queue has reached its RateLimits or is
// PAUSED"; on failure "the task's schedule_time will be reset to the time that RunTask was called plus
// the retry delay"; "returns NOT_FOUND when it is called on a task that has already succeeded or
// permanently failed". schedule_time: "the time when the task is scheduled to be attempted".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, toMs, type Harness } from './helpers/harness.js';
import { sleep, statuses } from './helpers/receiver.js';

const NOT_FOUND = 5;

function stateName(state: unknown): string {
  // gRPC mode returns enum names; REST mode asks for numeric enums and the client maps them back.
  return typeof state === 'number' ? (['STATE_UNSPECIFIED', 'RUNNING', 'PAUSED', 'DISABLED'][state] ?? String(state)) : String(state);
}

describe.concurrent.each(MODES)('queue state and task control (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('accepts tasks on a paused queue without dispatching them, and dispatches them on resume', async () => {
    const queue = h.uniqueQueueId('pause');
    await h.createQueue(queue);
    const [paused] = await h.client.pauseQueue({ name: h.queuePath(queue) });
    expect(stateName(paused.state)).toBe('PAUSED');
    const path = `/pause/${mode}`;
    const task = await h.createTask(queue, { path });
    await sleep(400);
    expect(h.receiver.at(path)).toHaveLength(0);
    const [stillThere] = await h.client.getTask({ name: task.name! });
    expect(stillThere.name).toBe(task.name);
    // A paused queue counts as idle: nothing RUNNING holds a task.
    await h.emulator.waitForIdle({ timeoutMs: 2000 });
    const [got] = await h.client.getQueue({ name: h.queuePath(queue) });
    expect(stateName(got.state)).toBe('PAUSED');

    const [resumed] = await h.client.resumeQueue({ name: h.queuePath(queue) });
    expect(stateName(resumed.state)).toBe('RUNNING');
    await h.receiver.waitFor(path, 1, 3000);
  });

  it('purges the tasks created before the purge, and keeps dispatching tasks created after it', async () => {
    const queue = h.uniqueQueueId('purge');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const path = `/purge/${mode}`;
    for (let i = 0; i < 3; i++) await h.createTask(queue, { path, body: `old-${i}` });
    const [purged] = await h.client.purgeQueue({ name: h.queuePath(queue) });
    expect(toMs(purged.purgeTime)).toBeGreaterThan(Date.now() - 60_000);
    const [left] = await h.client.listTasks({ parent: h.queuePath(queue) });
    expect(left).toHaveLength(0);
    await h.createTask(queue, { path, body: 'new' });
    await h.client.resumeQueue({ name: h.queuePath(queue) });
    const [req] = await h.receiver.waitFor(path, 1, 3000);
    expect(req!.body.toString()).toBe('new');
    await h.emulator.waitForIdle({ timeoutMs: 3000 });
    await sleep(200);
    expect(h.receiver.at(path)).toHaveLength(1);
  });

  it('RunTask dispatches a task on a paused queue now, then the task is gone and RunTask answers NOT_FOUND', async () => {
    const queue = h.uniqueQueueId('run-paused');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const path = `/run-paused/${mode}`;
    const task = await h.createTask(queue, { path, id: 'forced', scheduleTime: new Date(Date.now() + 3_600_000) });
    const [ran] = await h.client.runTask({ name: task.name! });
    expect(ran.name).toBe(task.name);
    await h.receiver.waitFor(path, 1, 3000);
    await sleep(200);
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.runTask({ name: task.name! }))).toBe(NOT_FOUND);
  });

  it('a failed RunTask reschedules the task by the retry delay from the time of the call', async () => {
    const queue = h.uniqueQueueId('run-fails');
    await h.createQueue(queue, { retry: { minBackoff: 0.3, maxBackoff: 0.3, maxAttempts: 5 } });
    const path = `/run-fails/${mode}`;
    h.receiver.on(path, statuses(500, 200));
    // Due in an hour: only RunTask and the retry it schedules can explain a dispatch now.
    const task = await h.createTask(queue, { path, id: 'run-then-retry', scheduleTime: new Date(Date.now() + 3_600_000) });
    const called = performance.now();
    await h.client.runTask({ name: task.name! });
    const reqs = await h.receiver.waitFor(path, 2, 5000);
    expect(reqs[0]!.at - called).toBeLessThan(3000);
    const retryAfterCall = reqs[1]!.at - called;
    expect(retryAfterCall).toBeGreaterThanOrEqual(300 - 25);
    expect(retryAfterCall).toBeLessThan(6000);
    await h.emulator.waitForIdle({ timeoutMs: 3000 });
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
  });

  it('dispatches a future task at its scheduleTime and a past one at once', async () => {
    const queue = h.uniqueQueueId('schedule');
    await h.createQueue(queue);
    const future = new Date(Date.now() + 1000);
    const past = new Date(Date.now() - 3_600_000);
    const created = performance.now();
    await h.createTask(queue, { path: `/future/${mode}`, scheduleTime: future });
    const pastTask = await h.createTask(queue, { path: `/past/${mode}`, scheduleTime: past });
    const [early] = await h.receiver.waitFor(`/past/${mode}`, 1, 3000);
    expect(early!.at - created).toBeLessThan(3000);
    // A past scheduleTime is kept as "now" or the given time — either way not in the future.
    expect(toMs(pastTask.scheduleTime)).toBeLessThanOrEqual(Date.now());
    const [late] = await h.receiver.waitFor(`/future/${mode}`, 1, 5000);
    expect(late!.wallAt).toBeGreaterThanOrEqual(future.getTime() - 20);
    expect(late!.wallAt).toBeLessThan(future.getTime() + 3000);
  });

  it('defaults scheduleTime to the creation time', async () => {
    const queue = h.uniqueQueueId('schedule-default');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const before = Date.now();
    const task = await h.createTask(queue, { path: `/schedule-default/${mode}` });
    expect(toMs(task.scheduleTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(toMs(task.scheduleTime)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(toMs(task.createTime)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('never dispatches a task deleted before its scheduleTime', async () => {
    const queue = h.uniqueQueueId('delete-before');
    await h.createQueue(queue);
    const path = `/delete-before/${mode}`;
    const task = await h.createTask(queue, { path, scheduleTime: new Date(Date.now() + 300) });
    await h.client.deleteTask({ name: task.name! });
    await sleep(600);
    expect(h.receiver.at(path)).toHaveLength(0);
    expect(await errorCode(() => h.client.deleteTask({ name: task.name! }))).toBe(NOT_FOUND);
  });
});
