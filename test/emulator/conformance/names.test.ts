// Pins task-name deduplication. Task reference (name): "If the task's queue was created using Cloud
// Tasks, then another task with the same name can't be created for ~1 hour after the original task was
// deleted or executed"; "If a name is not specified then the system will generate a random unique task
// id". The emulator makes the window settable (dedupWindowMs) and can forget names on purge
// (resetNamesOnPurge) so tests can reuse names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, LOCATION_PATH, type Harness } from './helpers/harness.js';
import { sleep } from './helpers/receiver.js';

const ALREADY_EXISTS = 6;

describe.concurrent.each(MODES)('task names and deduplication (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gives unnamed tasks unique, well-formed ids in the right queue', async () => {
    const queue = h.uniqueQueueId('unnamed');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const tasks = await Promise.all(Array.from({ length: 25 }, () => h.createTask(queue, { path: `/unnamed/${mode}` })));
    const names = tasks.map((t) => t.name!);
    expect(new Set(names).size).toBe(25);
    for (const name of names) {
      expect(name).toMatch(new RegExp(`^${LOCATION_PATH}/queues/${queue}/tasks/[A-Za-z0-9_-]{1,500}$`));
    }
    await h.client.purgeQueue({ name: h.queuePath(queue) });
  });

  it('answers ALREADY_EXISTS for a name that is still queued', async () => {
    const queue = h.uniqueQueueId('dup-live');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    await h.createTask(queue, { path: `/dup/${mode}`, id: 'twice' });
    expect(await errorCode(() => h.createTask(queue, { path: `/dup/${mode}`, id: 'twice' }))).toBe(ALREADY_EXISTS);
    // The same id in another queue is a different task.
    const other = h.uniqueQueueId('dup-other');
    await h.createQueue(other);
    await h.client.pauseQueue({ name: h.queuePath(other) });
    await expect(h.createTask(other, { path: `/dup/${mode}`, id: 'twice' })).resolves.toBeTruthy();
  });

  it('answers ALREADY_EXISTS for a name whose task already succeeded, within the dedup window', async () => {
    const queue = h.uniqueQueueId('dup-done');
    await h.createQueue(queue);
    const path = `/dup-done/${mode}`;
    await h.createTask(queue, { path, id: 'ran' });
    await h.receiver.waitFor(path, 1);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    expect(await errorCode(() => h.createTask(queue, { path, id: 'ran' }))).toBe(ALREADY_EXISTS);
    await sleep(200);
    expect(h.receiver.at(path)).toHaveLength(1);
  });

  it('answers ALREADY_EXISTS for a name whose task was deleted, within the dedup window', async () => {
    const queue = h.uniqueQueueId('dup-deleted');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const task = await h.createTask(queue, { path: `/dup-deleted/${mode}`, id: 'gone' });
    await h.client.deleteTask({ name: task.name! });
    expect(await errorCode(() => h.createTask(queue, { path: `/dup-deleted/${mode}`, id: 'gone' }))).toBe(ALREADY_EXISTS);
  });

  it('remembers names across a purge unless resetNamesOnPurge is set', async () => {
    const queue = h.uniqueQueueId('dup-purge');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    await h.createTask(queue, { path: `/dup-purge/${mode}`, id: 'purged' });
    await h.client.purgeQueue({ name: h.queuePath(queue) });
    expect(await errorCode(() => h.createTask(queue, { path: `/dup-purge/${mode}`, id: 'purged' }))).toBe(ALREADY_EXISTS);
  });
});

describe.concurrent.each(MODES)('dedup window options (%s client)', (mode) => {
  it('accepts a finished name again once dedupWindowMs has passed', async () => {
    const h = await startHarness(mode, { dedupWindowMs: 300 });
    try {
      const queue = h.uniqueQueueId('window');
      await h.createQueue(queue);
      const path = `/window/${mode}`;
      await h.createTask(queue, { path, id: 'again' });
      await h.receiver.waitFor(path, 1);
      await h.emulator.waitForIdle({ timeoutMs: 5000 });
      await sleep(450);
      await h.createTask(queue, { path, id: 'again' });
      const reqs = await h.receiver.waitFor(path, 2);
      expect(reqs).toHaveLength(2);
    } finally {
      await h.close();
    }
  });

  it('forgets names on purge with resetNamesOnPurge, so a test can reuse them', async () => {
    const h = await startHarness(mode, { resetNamesOnPurge: true });
    try {
      const queue = h.uniqueQueueId('reset');
      await h.createQueue(queue);
      await h.client.pauseQueue({ name: h.queuePath(queue) });
      await h.createTask(queue, { path: `/reset/${mode}`, id: 'reused' });
      await h.client.purgeQueue({ name: h.queuePath(queue) });
      const again = await h.createTask(queue, { path: `/reset/${mode}`, id: 'reused' });
      expect(again.name).toBe(h.taskPath(queue, 'reused'));
    } finally {
      await h.close();
    }
  });

  it('lets a deleted queue name be created again at once with allowQueueNameReuse (production: 7 days later)', async () => {
    const h = await startHarness(mode, { allowQueueNameReuse: true });
    try {
      const queue = h.uniqueQueueId('reuse');
      await h.createQueue(queue);
      await h.client.deleteQueue({ name: h.queuePath(queue) });
      const [again] = await h.client.createQueue({ parent: LOCATION_PATH, queue: { name: h.queuePath(queue) } });
      expect(again.name).toBe(h.queuePath(queue));
    } finally {
      await h.close();
    }
  });
});
