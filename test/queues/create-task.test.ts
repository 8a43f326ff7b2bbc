/** The one CreateTask operation, through the official client against the emulator. */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { makeCreateTask } from '../../src/queues/create-task.js';
import { queuePath } from '../../src/queues/paths.js';
import { newEmulatorClient } from '../../src/queues/tasks-client.js';
import { rejection } from '../helpers/rejection.js';

const QUEUE = queuePath('local-project', 'us-central1', 'held');

describe('makeCreateTask', () => {
  let emulator: Emulator;
  let client: CloudTasksClient;

  beforeAll(async () => {
    // Paused: tasks stay in the queue to be read back.
    emulator = await startEmulator({ port: 0, queues: { queues: [{ name: 'held', state: 'PAUSED' }] } });
    client = newEmulatorClient(emulator.address);
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('creates a named POST task with the body, the headers and an OIDC token whose audience defaults to the URL', async () => {
    const createTask = makeCreateTask(client, { timeoutMs: 10_000 });
    const created = await createTask({
      queue: QUEUE,
      taskId: 'named-1',
      url: 'http://127.0.0.1:9/target',
      body: Buffer.from('payload'),
      headers: { 'Content-Type': 'text/plain', 'X-Extra': 'yes' },
      serviceAccount: 'sa@p.iam.gserviceaccount.com',
    });
    expect(created).toEqual({ name: `${QUEUE}/tasks/named-1`, result: 'created' });
    const [task] = await client.getTask({ name: created.name, responseView: 'FULL' });
    expect(task.httpRequest).toMatchObject({
      url: 'http://127.0.0.1:9/target',
      httpMethod: 'POST',
      headers: expect.objectContaining({ 'Content-Type': 'text/plain', 'X-Extra': 'yes' }) as unknown,
      oidcToken: { serviceAccountEmail: 'sa@p.iam.gserviceaccount.com', audience: 'http://127.0.0.1:9/target' },
    });
    expect(Buffer.from(task.httpRequest!.body!).toString()).toBe('payload');
  });

  it("counts ALREADY_EXISTS on a named task as 'exists': a repeated handoff creates nothing new", async () => {
    const createTask = makeCreateTask(client, { timeoutMs: 10_000 });
    const task = { queue: QUEUE, taskId: 'twice', url: 'http://127.0.0.1:9/', body: Buffer.from('x'), headers: {} };
    expect((await createTask(task)).result).toBe('created');
    expect(await createTask(task)).toEqual({ name: `${QUEUE}/tasks/twice`, result: 'exists' });
    const [tasks] = await client.listTasks({ parent: QUEUE });
    expect(tasks.filter((t) => t.name === `${QUEUE}/tasks/twice`)).toHaveLength(1);
  });

  it('returns the name Cloud Tasks chose for an unnamed task', async () => {
    const created = await makeCreateTask(client, { timeoutMs: 10_000 })({ queue: QUEUE, url: 'http://127.0.0.1:9/', body: Buffer.alloc(0), headers: {} });
    expect(created.result).toBe('created');
    expect(created.name).toMatch(new RegExp(`^${QUEUE}/tasks/[A-Za-z0-9_-]+$`));
  });

  it("throws the client's error as is, or explained for people when asked", async () => {
    const missing = { queue: queuePath('local-project', 'us-central1', 'nope'), url: 'http://127.0.0.1:9/', body: Buffer.alloc(0), headers: {} };
    const raw = await rejection(makeCreateTask(client, { timeoutMs: 10_000 })(missing));
    expect(typeof raw.code).toBe('number');
    const explained = await rejection(makeCreateTask(client, { timeoutMs: 10_000, explain: { emulatorHost: emulator.address } })(missing));
    expect(explained.code).toBe('QUEUE_NOT_FOUND');
    expect(explained.message).toContain(emulator.address);
  });
});
