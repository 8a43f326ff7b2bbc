// Pins ListQueues/ListTasks paging and task views, and queue CRUD.
// ListQueues/ListTasks: page_size and page_token ("the next_page_token returned from the previous call");
// ListTasks: "By default, only the BASIC view is retrieved"; Task.View: "BASIC … omits … the body",
// FULL "all information is returned". Queue defaults from the RetryConfig / RateLimits reference:
// max_attempts 100, min_backoff 0.1s, max_backoff 3600s, max_doublings 16, 500 dispatches/s, 1000 concurrent.
// UpdateQueue honours update_mask ("A mask used to specify which fields of the queue are being updated").
import type { protos } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { duration, errorCode, shortId, startHarness, toSeconds, type Harness } from './helpers/harness.js';

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

type IQueue = protos.google.cloud.tasks.v2.IQueue;
type ITask = protos.google.cloud.tasks.v2.ITask;

function viewName(view: unknown): string {
  return typeof view === 'number' ? (['VIEW_UNSPECIFIED', 'BASIC', 'FULL'][view] ?? String(view)) : String(view);
}

describe.each(MODES)('listing and queue management (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('pages ListQueues with pageSize/pageToken and lists only the parent location', async () => {
    // A project of its own, so queues of other tests don't show up.
    const project = `projects/list-${mode}`;
    const parent = `${project}/locations/europe-west1`;
    const ids = ['qa', 'qb', 'qc', 'qd', 'qe'];
    for (const id of ids) await h.client.createQueue({ parent, queue: { name: `${parent}/queues/${id}` } });
    await h.client.createQueue({ parent: `${project}/locations/us-east1`, queue: { name: `${project}/locations/us-east1/queues/elsewhere` } });

    const pages: IQueue[][] = [];
    let request: protos.google.cloud.tasks.v2.IListQueuesRequest | null = { parent, pageSize: 2 };
    while (request) {
      const [queues, next]: [IQueue[], protos.google.cloud.tasks.v2.IListQueuesRequest | null, unknown] =
        await h.client.listQueues(request, { autoPaginate: false });
      pages.push(queues);
      request = next;
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages[0]).toHaveLength(2);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
    const names = pages.flat().map((q) => q.name);
    expect(names.map(shortId).sort()).toEqual(ids);
    expect(new Set(names).size).toBe(ids.length);
    for (const name of names) expect(name!.startsWith(`${parent}/queues/`)).toBe(true);

    // The auto-paginating form agrees.
    const [all] = await h.client.listQueues({ parent, pageSize: 2 });
    expect(all.map((q) => shortId(q.name)).sort()).toEqual(ids);
  });

  it('pages ListTasks and returns the body only in the FULL view', async () => {
    const queue = h.uniqueQueueId('list-tasks');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    for (let i = 0; i < 7; i++) await h.createTask(queue, { path: `/list/${mode}`, id: `t${i}`, body: `body-${i}` });

    const pages: ITask[][] = [];
    let request: protos.google.cloud.tasks.v2.IListTasksRequest | null = { parent: h.queuePath(queue), pageSize: 3 };
    while (request) {
      const [tasks, next]: [ITask[], protos.google.cloud.tasks.v2.IListTasksRequest | null, unknown] =
        await h.client.listTasks(request, { autoPaginate: false });
      pages.push(tasks);
      request = next;
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    const basic = pages.flat();
    expect(basic.map((t) => shortId(t.name)).sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    for (const task of basic) {
      expect(viewName(task.view)).toBe('BASIC');
      expect(task.httpRequest?.url).toBeTruthy();
      expect(Buffer.from(task.httpRequest?.body ?? []).length).toBe(0);
    }

    const [full] = await h.client.listTasks({ parent: h.queuePath(queue), responseView: 'FULL' });
    expect(full).toHaveLength(7);
    for (const task of full) {
      expect(viewName(task.view)).toBe('FULL');
      expect(Buffer.from(task.httpRequest!.body!).toString()).toBe(`body-${shortId(task.name).slice(1)}`);
    }

    const [one] = await h.client.getTask({ name: h.taskPath(queue, 't3'), responseView: 'FULL' });
    expect(Buffer.from(one.httpRequest!.body!).toString()).toBe('body-3');
    const [oneBasic] = await h.client.getTask({ name: h.taskPath(queue, 't3') });
    expect(Buffer.from(oneBasic.httpRequest?.body ?? []).length).toBe(0);
    await h.client.purgeQueue({ name: h.queuePath(queue) });
  });

  it('creates queues with the production defaults and returns them from GetQueue', async () => {
    const queue = h.uniqueQueueId('defaults');
    const created = await h.createQueue(queue);
    expect(created.name).toBe(h.queuePath(queue));
    const [got] = await h.client.getQueue({ name: h.queuePath(queue) });
    expect(got.name).toBe(h.queuePath(queue));
    expect(String(got.state)).toMatch(/^(RUNNING|1)$/);
    expect(got.retryConfig?.maxAttempts).toBe(100);
    expect(toSeconds(got.retryConfig?.minBackoff)).toBeCloseTo(0.1, 5);
    expect(toSeconds(got.retryConfig?.maxBackoff)).toBe(3600);
    expect(got.retryConfig?.maxDoublings).toBe(16);
    // Production leaves maxRetryDuration unset on a default queue (gcloud's describe shows no such
    // field; Queue reference: "If zero, then the task age is unlimited"), rather than "0s".
    expect(got.retryConfig?.maxRetryDuration ?? null).toBeNull();
    expect(created.retryConfig?.maxRetryDuration ?? null).toBeNull();
    expect(got.rateLimits?.maxDispatchesPerSecond).toBe(500);
    expect(got.rateLimits?.maxConcurrentDispatches).toBe(1000);
    // Output only, derived from the rate.
    expect(got.rateLimits?.maxBurstSize).toBeGreaterThan(0);
  });

  it('UpdateQueue changes only the fields named in the update mask', async () => {
    const queue = h.uniqueQueueId('update');
    await h.createQueue(queue, { retry: { maxAttempts: 7, minBackoff: 0.5 }, rate: { maxDispatchesPerSecond: 20 } });
    const [updated] = await h.client.updateQueue({
      queue: {
        name: h.queuePath(queue),
        retryConfig: { maxAttempts: 3, minBackoff: duration(2) },
        rateLimits: { maxDispatchesPerSecond: 50 },
      },
      updateMask: { paths: ['retry_config.max_attempts', 'rate_limits.max_dispatches_per_second'] },
    });
    expect(updated.retryConfig?.maxAttempts).toBe(3);
    expect(updated.rateLimits?.maxDispatchesPerSecond).toBe(50);
    // Not in the mask: unchanged.
    expect(toSeconds(updated.retryConfig?.minBackoff)).toBeCloseTo(0.5, 5);
    const [got] = await h.client.getQueue({ name: h.queuePath(queue) });
    expect(got.retryConfig?.maxAttempts).toBe(3);
    expect(toSeconds(got.retryConfig?.minBackoff)).toBeCloseTo(0.5, 5);
  });

  it('DeleteQueue removes the queue and its tasks; CreateQueue on an existing name is ALREADY_EXISTS', async () => {
    const queue = h.uniqueQueueId('delete-queue');
    await h.createQueue(queue);
    expect(await errorCode(() => h.createQueue(queue))).toBe(ALREADY_EXISTS);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const task = await h.createTask(queue, { path: `/delete-queue/${mode}` });
    await h.client.deleteQueue({ name: h.queuePath(queue) });
    expect(await errorCode(() => h.client.getQueue({ name: h.queuePath(queue) }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.deleteQueue({ name: h.queuePath(queue) }))).toBe(NOT_FOUND);
  });
});
