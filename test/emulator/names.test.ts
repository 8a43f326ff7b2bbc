import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/emulator/status.js';
import { parseLocationName, parseQueueName, parseTaskName, shortId } from '../../src/emulator/names.js';

function statusOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? err.status : 'not an ApiError';
  }
  return 'no error';
}

describe('resource names', () => {
  it('parses queue and task names into their parts', () => {
    expect(parseQueueName('projects/p/locations/us-central1/queues/q-1')).toMatchObject({ project: 'p', location: 'us-central1', queue: 'q-1' });
    expect(parseTaskName('projects/p/locations/l/queues/q/tasks/t_1-x')).toMatchObject({ queue: 'q', task: 't_1-x', name: 'projects/p/locations/l/queues/q' });
    expect(parseLocationName('projects/example.com:p/locations/l').project).toBe('example.com:p');
    expect(shortId('projects/p/locations/l/queues/q/tasks/t')).toBe('t');
  });

  it.each(['has_underscore', 'has.dot', 'x'.repeat(101), ''])('rejects queue id %j with INVALID_ARGUMENT', (id) => {
    expect(statusOf(() => parseQueueName(`projects/p/locations/l/queues/${id}`))).toBe('INVALID_ARGUMENT');
  });

  it('accepts queue ids of up to 100 characters and task ids of up to 500', () => {
    expect(() => parseQueueName(`projects/p/locations/l/queues/${'q'.repeat(100)}`)).not.toThrow();
    expect(() => parseTaskName(`projects/p/locations/l/queues/q/tasks/${'t'.repeat(500)}`)).not.toThrow();
  });

  it.each(['has.dot', 'has space', 't'.repeat(501), ''])('rejects task id %j with INVALID_ARGUMENT', (id) => {
    expect(statusOf(() => parseTaskName(`projects/p/locations/l/queues/q/tasks/${id}`))).toBe('INVALID_ARGUMENT');
  });

  it('rejects names of the wrong shape', () => {
    expect(statusOf(() => parseQueueName('queues/q'))).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => parseTaskName('projects/p/locations/l/queues/q'))).toBe('INVALID_ARGUMENT');
    // Production resolves a malformed parent to a project and denies permission on it.
    expect(statusOf(() => parseLocationName('projects/p'))).toBe('PERMISSION_DENIED');
  });
});
