import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { makeTasksClient, newEmulatorClient, parseHostPort, handoffTaskId, shortName } from '../../src/queues/index.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';

const QUEUE = 'projects/p/locations/l/queues/q';

describe('makeTasksClient against a Cloud Tasks gRPC endpoint', () => {
  let emulated: EmulatedTasks;
  beforeAll(async () => {
    emulated = await startEmulatedTasks([QUEUE]);
  });
  afterAll(async () => {
    await emulated.close();
  });

  it('returns one shared client per target', () => {
    const a = makeTasksClient({ emulatorHost: '127.0.0.1:1' });
    const b = makeTasksClient({ emulatorHost: '127.0.0.1:1' });
    expect(a).toBe(b);
  });

  it('creates a task over plaintext gRPC without looking up Google credentials', async () => {
    const client = newEmulatorClient(emulated.host);
    try {
      const [task] = await client.createTask({
        parent: QUEUE,
        task: { name: `${QUEUE}/tasks/t1`, httpRequest: { url: 'http://127.0.0.1/x', httpMethod: 'POST', body: Buffer.from('hi') } },
      });
      expect(task.name).toBe(`${QUEUE}/tasks/t1`);
      expect((await emulated.tasks())[0]!.httpRequest.body.toString()).toBe('hi');
      const again = client.createTask({ parent: QUEUE, task: { name: `${QUEUE}/tasks/t1`, httpRequest: { url: 'http://127.0.0.1/x' } } });
      await expect(again).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    } finally {
      await client.close();
    }
  });
});

describe('parseHostPort', () => {
  it('accepts names, IPv4 and bracketed IPv6', () => {
    expect(parseHostPort('localhost:8123')).toEqual({ host: 'localhost', port: 8123 });
    expect(parseHostPort('127.0.0.1:1')).toEqual({ host: '127.0.0.1', port: 1 });
    expect(parseHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });
  it.each(['localhost', ':80', 'host:0', 'host:70000', 'http://host:80'])('rejects %s with a coded error', (v) => {
    expect(() => parseHostPort(v)).toThrow(expect.objectContaining({ code: 'TASKS_EMULATOR_HOST_INVALID' }));
  });
});

describe('handoffTaskId', () => {
  it('is deterministic per source and action, and a valid task id', () => {
    const a = handoffTaskId('q', 't', 'forward');
    expect(a).toBe(handoffTaskId('q', 't', 'forward'));
    expect(a).not.toBe(handoffTaskId('q', 't', 'notify-failure'));
    expect(a).not.toBe(handoffTaskId('q', 't2', 'forward'));
    expect(a).not.toBe(handoffTaskId('q2', 't', 'forward'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,500}$/);
  });
  it('shortName takes the last path segment', () => {
    expect(shortName('projects/p/locations/l/queues/q')).toBe('q');
    expect(shortName('q')).toBe('q');
  });
});
