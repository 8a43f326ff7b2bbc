// Pins the error codes of the API, through the official client in both transports.
// Sources: CreateTask reference — "Explicitly specifying a task ID enables task de-duplication … the call
// will fail with ALREADY_EXISTS"; "The maximum task size is 1MB"; schedule_time "cannot be more than 30
// days in the future" (Task reference, "ScheduleTime"); dispatch_deadline "must be in the interval
// [15 seconds, 30 minutes]"; RateLimits: max_dispatches_per_second "The maximum allowed value is 500",
// max_concurrent_dispatches "The maximum allowed value is 5,000"; queue id "can contain letters
// ([A-Za-z]), numbers ([0-9]), or hyphens (-). The maximum length is 100 characters"; task id "can contain
// only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_). The maximum length is 500".
// Creating a task in a queue that does not exist is FAILED_PRECONDITION "Queue does not exist." in
// production, not NOT_FOUND (github.com/stackkit/laravel-google-cloud-tasks-queue/issues/103,
// github.com/esminc/activejob-google_cloud_tasks-http/pull/9).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, LOCATION_PATH, startHarness, type Harness } from './helpers/harness.js';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const FAILED_PRECONDITION = 9;
const DAY_MS = 86_400_000;

describe.each(MODES)('API errors (%s client)', (mode) => {
  let h: Harness;
  let queue: string;
  beforeAll(async () => {
    h = await startHarness(mode);
    queue = h.uniqueQueueId('errors');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers NOT_FOUND for a missing queue or task', async () => {
    expect(await errorCode(() => h.client.getQueue({ name: h.queuePath('no-such-queue') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.pauseQueue({ name: h.queuePath('no-such-queue') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.purgeQueue({ name: h.queuePath('no-such-queue') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.getTask({ name: h.taskPath(queue, 'no-such-task') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.deleteTask({ name: h.taskPath(queue, 'no-such-task') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.runTask({ name: h.taskPath(queue, 'no-such-task') }))).toBe(NOT_FOUND);
  });

  it('answers FAILED_PRECONDITION when a task is created in a queue that does not exist', async () => {
    expect(await errorCode(() => h.createTask('no-such-queue', { path: '/x' }))).toBe(FAILED_PRECONDITION);
  });

  it('answers ALREADY_EXISTS for a duplicate queue or task name', async () => {
    expect(await errorCode(() => h.createQueue(queue))).toBe(ALREADY_EXISTS);
    await h.createTask(queue, { path: '/x', id: 'dup' });
    expect(await errorCode(() => h.createTask(queue, { path: '/x', id: 'dup' }))).toBe(ALREADY_EXISTS);
  });

  it('rejects malformed queue ids with INVALID_ARGUMENT', async () => {
    for (const bad of ['has_underscore', 'has.dot', 'x'.repeat(101), '']) {
      expect(
        await errorCode(() => h.client.createQueue({ parent: LOCATION_PATH, queue: { name: `${LOCATION_PATH}/queues/${bad}` } })),
        `queue id '${bad.slice(0, 20)}'`,
      ).toBe(INVALID_ARGUMENT);
    }
    expect(await errorCode(() => h.client.createQueue({ parent: LOCATION_PATH, queue: { name: 'not-a-resource-name' } }))).toBe(INVALID_ARGUMENT);
    // The queue must live under the parent it is created in.
    expect(
      await errorCode(() => h.client.createQueue({ parent: LOCATION_PATH, queue: { name: 'projects/other/locations/us-central1/queues/q' } })),
    ).toBe(INVALID_ARGUMENT);
    // 100 characters is still legal.
    await expect(h.createQueue('q'.repeat(100))).resolves.toBeTruthy();
  });

  it('rejects malformed task ids with INVALID_ARGUMENT and accepts the longest legal one', async () => {
    for (const bad of ['has.dot', 'has/slash', 'sp ace', 'x'.repeat(501)]) {
      expect(await errorCode(() => h.createTask(queue, { path: '/x', id: bad })), `task id '${bad.slice(0, 20)}'`).toBe(INVALID_ARGUMENT);
    }
    // A task name must belong to the queue it is created in.
    expect(
      await errorCode(() =>
        h.client.createTask({
          parent: h.queuePath(queue),
          task: { name: h.taskPath('another-queue', 'x'), httpRequest: { url: `${h.receiver.url}/x` } },
        }),
      ),
    ).toBe(INVALID_ARGUMENT);
    await expect(h.createTask(queue, { path: '/x', id: `A-z_${'9'.repeat(496)}` })).resolves.toBeTruthy();
  });

  it('rejects a task over 1 MB with INVALID_ARGUMENT', async () => {
    expect(await errorCode(() => h.createTask(queue, { path: '/x', body: Buffer.alloc(1024 * 1024 + 1, 97) }))).toBe(INVALID_ARGUMENT);
    // Comfortably under the limit is fine.
    await expect(h.createTask(queue, { path: '/x', body: Buffer.alloc(900 * 1024, 97) })).resolves.toBeTruthy();
  });

  it('rejects a scheduleTime more than 30 days ahead with INVALID_ARGUMENT', async () => {
    expect(await errorCode(() => h.createTask(queue, { path: '/x', scheduleTime: new Date(Date.now() + 31 * DAY_MS) }))).toBe(
      INVALID_ARGUMENT,
    );
    await expect(h.createTask(queue, { path: '/x', scheduleTime: new Date(Date.now() + 29 * DAY_MS) })).resolves.toBeTruthy();
  });

  it('rejects a dispatchDeadline outside [15s, 30min] with INVALID_ARGUMENT', async () => {
    expect(await errorCode(() => h.createTask(queue, { path: '/x', dispatchDeadlineSeconds: 14 }))).toBe(INVALID_ARGUMENT);
    expect(await errorCode(() => h.createTask(queue, { path: '/x', dispatchDeadlineSeconds: 1801 }))).toBe(INVALID_ARGUMENT);
    await expect(h.createTask(queue, { path: '/x', dispatchDeadlineSeconds: 15 })).resolves.toBeTruthy();
    await expect(h.createTask(queue, { path: '/x', dispatchDeadlineSeconds: 1800 })).resolves.toBeTruthy();
  });

  it('rejects rate limits above 500/s or 5000 concurrent with INVALID_ARGUMENT, on create and on update', async () => {
    expect(await errorCode(() => h.createQueue(h.uniqueQueueId('too-fast'), { rate: { maxDispatchesPerSecond: 501 } }))).toBe(INVALID_ARGUMENT);
    expect(await errorCode(() => h.createQueue(h.uniqueQueueId('too-wide'), { rate: { maxConcurrentDispatches: 5001 } }))).toBe(
      INVALID_ARGUMENT,
    );
    await expect(h.createQueue(h.uniqueQueueId('at-limits'), { rate: { maxDispatchesPerSecond: 500, maxConcurrentDispatches: 5000 } })).resolves.toBeTruthy();
    expect(
      await errorCode(() =>
        h.client.updateQueue({
          queue: { name: h.queuePath(queue), rateLimits: { maxDispatchesPerSecond: 1000 } },
          updateMask: { paths: ['rate_limits.max_dispatches_per_second'] },
        }),
      ),
    ).toBe(INVALID_ARGUMENT);
  });

  it('rejects a retry config below its minimums with INVALID_ARGUMENT', async () => {
    // max_attempts "Must be >= -1"; a negative backoff is meaningless.
    expect(await errorCode(() => h.createQueue(h.uniqueQueueId('bad-attempts'), { retry: { maxAttempts: -2 } }))).toBe(INVALID_ARGUMENT);
    expect(
      await errorCode(() =>
        h.client.createQueue({
          parent: LOCATION_PATH,
          queue: { name: h.queuePath(h.uniqueQueueId('bad-backoff')), retryConfig: { minBackoff: { seconds: -1 } } },
        }),
      ),
    ).toBe(INVALID_ARGUMENT);
  });

  it('rejects App Engine targets with an INVALID_ARGUMENT that says so', async () => {
    let caught: { code?: number; message?: string } | undefined;
    try {
      await h.client.createTask({
        parent: h.queuePath(queue),
        task: { appEngineHttpRequest: { relativeUri: '/work', httpMethod: 'POST' } },
      });
    } catch (err) {
      caught = err as { code?: number; message?: string };
    }
    expect(caught?.code).toBe(INVALID_ARGUMENT);
    expect(caught?.message).toMatch(/app ?engine/i);
  });

  it('rejects a task without a target or with a non-HTTP(S) URL with INVALID_ARGUMENT', async () => {
    expect(await errorCode(() => h.client.createTask({ parent: h.queuePath(queue), task: {} }))).toBe(INVALID_ARGUMENT);
    expect(
      await errorCode(() => h.client.createTask({ parent: h.queuePath(queue), task: { httpRequest: { url: 'ftp://example.com/x' } } })),
    ).toBe(INVALID_ARGUMENT);
  });

  it('keeps serving after every rejected request', async () => {
    const [got] = await h.client.getQueue({ name: h.queuePath(queue) });
    expect(got.name).toBe(h.queuePath(queue));
  });
});
