import { describe, expect, it } from 'vitest';
import { explainTasksError } from '../../src/queues/explain.js';

const Q = 'projects/p/locations/l/queues/q';
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('Cloud Tasks errors, explained', () => {
  it('treats NOT_FOUND "Queue does not exist" (what production and the emulator answer) as a missing queue', () => {
    const e = explainTasksError(
      grpcError(5, 'Queue does not exist. If you just created the queue, wait at least a minute for the queue to initialize.'),
      Q,
      { emulatorHost: 'localhost:8123' },
    );
    expect(e.code).toBe('QUEUE_NOT_FOUND');
    expect(e.message).toMatch(/queues file that declares it/);
  });

  it('treats FAILED_PRECONDITION "Queue does not exist" (what production answered before 2026) as a missing queue', () => {
    const e = explainTasksError(grpcError(9, 'Queue does not exist.'), Q, {});
    expect(e.code).toBe('QUEUE_NOT_FOUND');
    expect(e.message).toMatch(/gcloud tasks queues create/);
  });

  it('tells how to reach a missing emulator', () => {
    const e = explainTasksError(grpcError(14, 'No connection established'), Q, { emulatorHost: 'localhost:8123' });
    expect(e.code).toBe('TASKS_UNAVAILABLE');
    expect(e.message).toMatch(/Cannot reach the emulator at localhost:8123.*executor emulator/);
  });

  it('names the roles to grant when Google refuses', () => {
    const e = explainTasksError(grpcError(7, 'The principal lacks cloudtasks.tasks.create'), Q, {});
    expect(e.code).toBe('TASKS_PERMISSION_DENIED');
    expect(e.message).toMatch(/roles\/cloudtasks\.enqueuer/);
  });

  it('keeps other rejections with their detail', () => {
    expect(explainTasksError(grpcError(3, 'Task size too large'), Q, {})).toMatchObject({ code: 'TASK_REJECTED', message: expect.stringMatching(/Task size too large/) });
    expect(explainTasksError(grpcError(6, 'exists'), Q, {}).code).toBe('TASK_ALREADY_EXISTS');
    expect(explainTasksError(new Error('socket hang up'), Q, {}).code).toBe('TASK_CREATE_FAILED');
  });
});
