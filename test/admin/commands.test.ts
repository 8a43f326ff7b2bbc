import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQueuesCommand } from '../../src/admin/queues-cli.js';
import { runTasksCommand } from '../../src/admin/tasks-cli.js';
import type { AdminIo } from '../../src/admin/io.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { CodedError, ConfigError } from '../../src/errors.js';
import { newTasksClient } from '../../src/queues/index.js';
import { rejection } from '../helpers/rejection.js';

const Q = 'projects/local-project/locations/us-central1/queues';

describe('executor queues and tasks against the emulator', () => {
  let emulator: Emulator;
  let output: string;
  let answers: boolean[] | undefined;
  const io = (): AdminIo => ({
    env: { CLOUD_TASKS_EMULATOR_HOST: emulator.address },
    out: (text) => {
      output += text;
    },
    ...(answers !== undefined ? { confirm: async () => answers!.shift() ?? false } : {}),
    client: (host) => newTasksClient(host),
  });
  const queues = async (...argv: string[]): Promise<string> => {
    output = '';
    await runQueuesCommand(argv, io());
    return output;
  };
  const tasks = async (...argv: string[]): Promise<string> => {
    output = '';
    await runTasksCommand(argv, io());
    return output;
  };

  /** Adds a task (paused queues keep it) and returns its name. */
  async function addTask(queue: string, id: string): Promise<string> {
    const client = newTasksClient(emulator.address);
    try {
      const [task] = await client.createTask({ parent: `${Q}/${queue}`, task: { name: `${Q}/${queue}/tasks/${id}`, httpRequest: { url: 'http://127.0.0.1:9/', httpMethod: 'POST', body: Buffer.from('{}') } } });
      return task.name!;
    } finally {
      await client.close();
    }
  }

  beforeAll(async () => {
    // Paused: tasks wait to be listed instead of being pushed to a port nothing listens on.
    emulator = await startEmulator({ port: 0, queues: { queues: [{ name: 'incoming', state: 'PAUSED' }] } });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('lists queues as a table by default and as JSON with --format json', async () => {
    const table = await queues('list');
    expect(table.split('\n')[0]).toMatch(/^QUEUE\s+STATE\s+MAX_RATE\s+MAX_CONCURRENT\s+MAX_ATTEMPTS\s+MIN_BACKOFF\s+MAX_BACKOFF$/);
    expect(table).toMatch(/\nincoming\s+PAUSED\s+/);
    const json = JSON.parse(await queues('list', '--format', 'json')) as Array<{ name: string; state: string }>;
    expect(json).toContainEqual(expect.objectContaining({ name: `${Q}/incoming`, state: 'PAUSED' }));
  });

  it('creates a queue with gcloud flags, describes it, updates and clears a setting', async () => {
    const created = JSON.parse(await queues('create', 'slow', '--max-attempts', '5', '--min-backoff', '10s', '--max-dispatches-per-second', '2', '--format', 'json')) as {
      retryConfig: { maxAttempts: number; minBackoff: { seconds: number } };
      rateLimits: { maxDispatchesPerSecond: number };
    };
    expect(created.retryConfig.maxAttempts).toBe(5);
    expect(Number(created.retryConfig.minBackoff.seconds)).toBe(10);
    expect(created.rateLimits.maxDispatchesPerSecond).toBe(2);
    expect(await queues('describe', 'slow')).toMatch(/maxAttempts: 5/);

    const updated = JSON.parse(await queues('update', 'slow', '--max-concurrent-dispatches', '3', '--clear-max-attempts', '--format', 'json')) as { retryConfig: { maxAttempts: number }; rateLimits: { maxConcurrentDispatches: number; maxDispatchesPerSecond: number } };
    expect(updated.rateLimits.maxConcurrentDispatches).toBe(3);
    expect(updated.rateLimits.maxDispatchesPerSecond).toBe(2);
    expect(updated.retryConfig.maxAttempts).toBe(100);
  });

  it('pauses and resumes a queue', async () => {
    expect(await queues('pause', 'slow')).toBe(`Paused queue ${Q}/slow.\n`);
    expect(JSON.parse(await queues('describe', 'slow', '--format', 'json'))).toMatchObject({ state: 'PAUSED' });
    await queues('resume', 'slow');
    expect(JSON.parse(await queues('describe', 'slow', '--format', 'json'))).toMatchObject({ state: 'RUNNING' });
  });

  it('lists, describes and deletes tasks; run dispatches one', async () => {
    const name = await addTask('incoming', 'job-1');
    await addTask('incoming', 'job-2');
    const table = await tasks('list', '--queue', 'incoming');
    expect(table.split('\n')[0]).toMatch(/^TASK\s+SCHEDULE_TIME\s+DISPATCHES\s+RESPONSES\s+LAST_STATUS\s+URL$/);
    expect(table).toMatch(/\njob-1\s+\d{4}-\d\d-\d\dT\S+Z\s+0\s+0\s+http:\/\/127\.0\.0\.1:9\//);
    expect(await tasks('list', '--queue', 'incoming', '--format', 'name')).toBe(`${Q}/incoming/tasks/job-1\n${Q}/incoming/tasks/job-2\n`);
    expect(JSON.parse(await tasks('describe', 'job-1', '--queue', 'incoming', '--response-view', 'full', '--format', 'json'))).toMatchObject({ name, httpRequest: { body: Buffer.from('{}').toString('base64') } });

    expect(await tasks('run', name)).toBe(`Dispatched task ${name}.\n`);
    expect(JSON.parse(await tasks('describe', name, '--format', 'json'))).toMatchObject({ dispatchCount: 1 });

    expect(await tasks('delete', 'job-2', '--queue', 'incoming', '--quiet')).toBe(`Deleted task ${Q}/incoming/tasks/job-2.\n`);
    const err = await rejection(tasks('describe', 'job-2', '--queue', 'incoming'));
    expect(err).toBeInstanceOf(CodedError);
    expect((err as CodedError).code).toBe('TASK_NOT_FOUND');
  });

  it('asks before purge and delete: a no leaves everything, a yes goes ahead', async () => {
    await addTask('incoming', 'keep-me');
    answers = [false];
    const refused = await rejection(queues('purge', 'incoming'));
    expect((refused as CodedError).code).toBe('ADMIN_NOT_CONFIRMED');
    expect(await tasks('list', '--queue', 'incoming', '--format', 'name')).toMatch(/keep-me/);
    answers = [true];
    expect(await queues('purge', 'incoming')).toBe(`Purged queue ${Q}/incoming.\n`);
    answers = undefined;
    expect(await tasks('list', '--queue', 'incoming')).toBe(`Listed 0 tasks in ${Q}/incoming.\n`);
  });

  it('without a terminal, purge and delete need --quiet (a usage error otherwise, nothing changed)', async () => {
    const err = await rejection(queues('delete', 'slow'));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('ADMIN_ARGS_INVALID');
    expect((err as ConfigError).message).toMatch(/pass --quiet/);
    expect(await queues('describe', 'slow', '--format', 'name')).toBe(`${Q}/slow\n`);
    expect(await queues('delete', 'slow', '-q')).toBe(`Deleted queue ${Q}/slow.\n`);
    const gone = await rejection(queues('describe', 'slow'));
    expect((gone as CodedError).code).toBe('QUEUE_NOT_FOUND');
    expect((gone as CodedError).message).toMatch(/executor queues list/);
  });

  it('says a queue exists already, naming the command that changes it', async () => {
    const err = await rejection(queues('create', 'incoming'));
    expect((err as CodedError).code).toBe('QUEUE_ALREADY_EXISTS');
    expect((err as CodedError).message).toMatch(/executor queues update/);
  });

  it('refuses a setting the API refuses, with its reason', async () => {
    const err = await rejection(queues('update', 'incoming', '--max-backoff', '1s', '--min-backoff', '10s'));
    expect((err as CodedError).code).toBe('TASKS_REQUEST_REJECTED');
  });
});
