// Pins the error codes of the API, through the official client in both transports.
// Sources: CreateTask reference — "Explicitly specifying a task ID enables task de-duplication … the call
// will fail with ALREADY_EXISTS"; "The maximum task size is 1MB"; schedule_time "cannot be more than 30
// days in the future" (Task reference, "ScheduleTime"); dispatch_deadline "must be in the interval
// [15 seconds, 30 minutes]"; RateLimits: max_dispatches_per_second "The maximum allowed value is 500",
// max_concurrent_dispatches "The maximum allowed value is 5,000"; queue id "can contain letters
// ([A-Za-z]), numbers ([0-9]), or hyphens (-). The maximum length is 100 characters"; task id "can contain
// only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_). The maximum length is 500".
// Codes and messages of the error cases recorded against real Cloud Tasks in 2026-08, published in
// aertje/cloud-tasks-emulator's conformance/golden/realcloud.json ("template" = production's
// message): e.g. CreateTask on a missing or just-deleted queue is NOT_FOUND "Queue does not exist. If
// you just created the queue, wait at least a minute for the queue to initialize." (it used to be
// FAILED_PRECONDITION), and a malformed parent is PERMISSION_DENIED "Permission denied on resource
// project X.". The emulator's own hints travel in the error's details (google.rpc.DebugInfo).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { loadTaskType } from '../../../src/emulator/api/protos.js';
import { apiError, errorCode, LOCATION_PATH, startHarness, type Harness } from './helpers/harness.js';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const QUEUE_DOES_NOT_EXIST = 'Queue does not exist. If you just created the queue, wait at least a minute for the queue to initialize.';
const ENTITY_NOT_FOUND = 'Requested entity was not found.';
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

  it("answers a missing queue with production's NOT_FOUND text, and a missing task with its own", async () => {
    const missing = h.queuePath('no-such-queue');
    for (const call of [
      () => h.client.getQueue({ name: missing }),
      () => h.client.pauseQueue({ name: missing }),
      () => h.client.resumeQueue({ name: missing }),
      () => h.client.purgeQueue({ name: missing }),
    ]) {
      expect(await apiError(call)).toMatchObject({ code: NOT_FOUND, message: QUEUE_DOES_NOT_EXIST });
    }
    expect(await apiError(() => h.client.deleteQueue({ name: missing }))).toMatchObject({ code: NOT_FOUND, message: ENTITY_NOT_FOUND });
    for (const call of [
      () => h.client.getTask({ name: h.taskPath(queue, 'no-such-task') }),
      () => h.client.deleteTask({ name: h.taskPath(queue, 'no-such-task') }),
      () => h.client.runTask({ name: h.taskPath(queue, 'no-such-task') }),
    ]) {
      expect(await apiError(call)).toMatchObject({ code: NOT_FOUND, message: ENTITY_NOT_FOUND });
    }
    await h.createTask(queue, { path: '/x', id: 'deleted-task' });
    await h.client.deleteTask({ name: h.taskPath(queue, 'deleted-task') });
    expect(await apiError(() => h.client.getTask({ name: h.taskPath(queue, 'deleted-task') }))).toMatchObject({
      code: NOT_FOUND,
      message: 'The task no longer exists, though a task with this name existed recently. The task either successfully completed or was deleted.',
    });
  });

  it('keeps its own hint out of the message, in a google.rpc.DebugInfo detail', async () => {
    const e = await apiError(() => h.client.getQueue({ name: h.queuePath('no-such-queue') }));
    expect(e.message).toBe(QUEUE_DOES_NOT_EXIST);
    expect(e.details).toContainEqual(expect.objectContaining({ detail: expect.stringMatching(/no-such-queue does not exist on the emulator: create it first/) as unknown }));
  });

  it('answers NOT_FOUND when a task is created in a queue that does not exist or was just deleted', async () => {
    expect(await apiError(() => h.createTask('no-such-queue', { path: '/x' }))).toMatchObject({ code: NOT_FOUND, message: QUEUE_DOES_NOT_EXIST });
    const gone = h.uniqueQueueId('just-deleted');
    await h.createQueue(gone);
    await h.client.deleteQueue({ name: h.queuePath(gone) });
    expect(await apiError(() => h.createTask(gone, { path: '/x' }))).toMatchObject({ code: NOT_FOUND, message: QUEUE_DOES_NOT_EXIST });
    expect(await apiError(() => h.client.getQueue({ name: h.queuePath(gone) }))).toMatchObject({ code: NOT_FOUND, message: QUEUE_DOES_NOT_EXIST });
  });

  it('refuses to re-create a deleted queue name (production keeps it for 7 days)', async () => {
    const gone = h.uniqueQueueId('reused');
    await h.createQueue(gone);
    await h.client.deleteQueue({ name: h.queuePath(gone) });
    expect(await apiError(() => h.createQueue(gone))).toMatchObject({
      code: FAILED_PRECONDITION,
      message: 'The queue cannot be created because a queue with this name existed too recently.',
    });
    // UpdateQueue, which creates a missing queue, is refused the same way.
    expect(await errorCode(() => h.client.updateQueue({ queue: { name: h.queuePath(gone) } }))).toBe(FAILED_PRECONDITION);
  });

  it("answers ALREADY_EXISTS for a duplicate queue or task name, with production's texts", async () => {
    expect(await apiError(() => h.createQueue(queue))).toMatchObject({ code: ALREADY_EXISTS, message: 'Queue already exists' });
    await h.createTask(queue, { path: '/x', id: 'dup' });
    expect(await apiError(() => h.createTask(queue, { path: '/x', id: 'dup' }))).toMatchObject({
      code: ALREADY_EXISTS,
      message: 'Requested entity already exists',
    });
  });

  it('answers a malformed parent with PERMISSION_DENIED on the project it names, as production does', async () => {
    // The recorded case; the REST client cannot even build a URL for a parent outside projects/*/locations/*.
    if (mode === 'grpc') {
      const e = await apiError(() => h.client.createQueue({ parent: 'not-a-valid-parent', queue: { name: h.queuePath('q') } }));
      expect(e).toMatchObject({ code: PERMISSION_DENIED, message: 'Permission denied on resource project not-a-valid-parent.' });
      expect(e.reason).toBe('CONSUMER_INVALID');
      expect(await apiError(() => h.client.listQueues({ parent: 'projects/p' }))).toMatchObject({
        code: PERMISSION_DENIED,
        message: 'Permission denied on resource project p.',
      });
    }
    const bad = await apiError(() => h.client.listQueues({ parent: 'projects/not_a_project!/locations/us-central1' }));
    expect(bad).toMatchObject({ code: PERMISSION_DENIED, message: 'Permission denied on resource project not_a_project!.' });
    expect(bad.reason).toBe('CONSUMER_INVALID');
  });

  it("answers malformed queue names and task ids with production's INVALID_ARGUMENT texts", async () => {
    expect(await apiError(() => h.client.createQueue({ parent: LOCATION_PATH, queue: { name: 'not-a-valid-queue-name' } }))).toMatchObject({
      code: INVALID_ARGUMENT,
      message: 'Queue name must be formatted: "projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>".',
    });
    expect(
      await apiError(() => h.client.createTask({ parent: h.queuePath(queue), task: { name: h.taskPath(queue, 'not a valid id'), httpRequest: { url: `${h.receiver.url}/x` } } })),
    ).toMatchObject({
      code: INVALID_ARGUMENT,
      message:
        'Task ID "not a valid id" can contain only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_). Task ID must between 1 and 500 characters.',
    });
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

  it('measures the 1 MB limit on the stored task, as production does', async () => {
    // Production's limit is on the serialized stored task (name, times, deadline, URL, headers with
    // User-Agent, body), refused above 1 MiB − 7 = 1,048,569 bytes (probed against real Cloud Tasks on
    // 2026-08-23: aertje/cloud-tasks-emulator, internal/engine/tasksize.go). The test sizes bodies with
    // protobufjs' own encoding of that stored form: 10 bytes under passes, 10 bytes over fails, though
    // URL + body + headers stay under 1 MiB (what the emulator used to count).
    const taskType = loadTaskType();
    const url = `${h.receiver.url}/x`;
    const at = Math.ceil(Date.now() / 1000 + 3600) * 1000; // whole seconds: no nanos to count
    const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    const stored = (name: string, body: Buffer): number =>
      taskType
        .encode({
          name,
          httpRequest: { url, httpMethod: 1, headers: { 'User-Agent': 'Google-Cloud-Tasks' }, body },
          scheduleTime: ts(at),
          createTime: ts(Date.now()), // its nanos vary by a few bytes: hence the 10-byte margins
          dispatchDeadline: { seconds: 600 },
        })
        .finish().length;
    const limit = 1024 * 1024 - 7;
    const bodyFor = (name: string, size: number): Buffer => {
      const probe = Buffer.alloc(1_000_000, 97);
      return Buffer.alloc(size - (stored(name, probe) - probe.length), 97);
    };
    const create = (id: string, storedSize: number) => {
      const name = h.taskPath(queue, id);
      const body = bodyFor(name, storedSize);
      expect(url.length + body.length + 'User-Agent'.length + 'Google-Cloud-Tasks'.length).toBeLessThan(1024 * 1024);
      return h.client.createTask({ parent: h.queuePath(queue), task: { name, httpRequest: { url, body }, scheduleTime: ts(at) } });
    };
    await expect(create('just-under', limit - 10)).resolves.toBeTruthy();
    expect(await errorCode(() => create('just-over', limit + 10))).toBe(INVALID_ARGUMENT);
  });

  it('rejects headers of 80 KB or more (target.proto: "The size of the headers must be less than 80KB")', async () => {
    expect(await errorCode(() => h.createTask(queue, { path: '/x', headers: { 'X-Big': 'a'.repeat(80 * 1024) } }))).toBe(INVALID_ARGUMENT);
    await expect(h.createTask(queue, { path: '/x', headers: { 'X-Big': 'a'.repeat(79 * 1024) } })).resolves.toBeTruthy();
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
