import { describe, expect, it } from 'vitest';
import { parseQueuePath, queueParent, queuePath, resolveQueuePath } from '../../src/queues/paths.js';

describe('parseQueuePath', () => {
  it("splits a full queue path and refuses anything that breaks production's id rules", () => {
    expect(parseQueuePath('projects/example.com:p/locations/us-central1/queues/q-1')).toEqual({ project: 'example.com:p', location: 'us-central1', queue: 'q-1' });
    for (const bad of ['projects/p/locations/l/queues/q_1', 'projects/p/queues/q', 'projects/-p/locations/l/queues/q', `projects/p/locations/l/queues/${'q'.repeat(101)}`]) {
      expect(parseQueuePath(bad), bad).toBeUndefined();
    }
  });

  it('builds paths and their parent', () => {
    expect(queuePath('p', 'l', 'q')).toBe('projects/p/locations/l/queues/q');
    expect(queueParent('projects/p/locations/l/queues/q')).toBe('projects/p/locations/l');
  });
});

describe('resolveQueuePath', () => {
  it('accepts full paths and short ids with project and location', () => {
    const problems: string[] = [];
    expect(resolveQueuePath('Q', 'projects/p/locations/l/queues/q', undefined, undefined, problems)).toBe('projects/p/locations/l/queues/q');
    expect(resolveQueuePath('Q', 'q', 'p', 'l', problems)).toBe('projects/p/locations/l/queues/q');
    expect(resolveQueuePath('Q', undefined, 'p', 'l', problems)).toBeUndefined();
    expect(problems).toEqual([]);
  });
  it('names the variable and what is missing', () => {
    const problems: string[] = [];
    resolveQueuePath('NOTIFIER_QUEUE', 'q', undefined, undefined, problems, 'NOTIFIER_LOCATION');
    resolveQueuePath('X', 'projects/p/queues/q', 'p', 'l', problems);
    expect(problems[0]).toContain('set GOOGLE_CLOUD_PROJECT and NOTIFIER_LOCATION');
    expect(problems[1]).toContain('X must be projects/PROJECT/locations/LOCATION/queues/QUEUE');
  });
});
