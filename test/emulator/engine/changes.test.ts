import { afterEach, describe, expect, it } from 'vitest';
import type { EngineChange } from '../../../src/emulator/engine/changes.js';
import { Engine } from '../../../src/emulator/engine/engine.js';
import { testEngineOptions } from '../../helpers/engine-options.js';

const PARENT = 'projects/p/locations/l';
const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

function makeEngine(status: (n: number) => number): Engine {
  let n = 0;
  const engine = new Engine(testEngineOptions({
    push: async () => ({ kind: 'response', status: status(++n) }),
  }));
  engines.push(engine);
  return engine;
}

describe('Engine.onChange', () => {
  it('reports queue changes, task creation, each attempt with its status, and the task leaving', async () => {
    const engine = makeEngine((n) => (n === 1 ? 409 : 200));
    const changes: EngineChange[] = [];
    const stop = engine.onChange((c) => changes.push(c));
    const q = `${PARENT}/queues/a`;
    engine.createQueue(PARENT, { name: q, retryConfig: { minBackoffMs: 1, maxBackoffMs: 1 } });
    engine.pauseQueue(q);
    engine.resumeQueue(q);
    const task = engine.createTask(q, { http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    await engine.waitForIdle(5000);
    expect(changes).toEqual([
      { kind: 'queue', queue: q },
      { kind: 'queue', queue: q },
      { kind: 'queue', queue: q },
      { kind: 'task-created', queue: q, task: task.name },
      { kind: 'task-updated', queue: q, task: task.name },
      { kind: 'attempt', queue: q, task: task.name, ok: false, status: 409 },
      { kind: 'task-updated', queue: q, task: task.name },
      { kind: 'task-updated', queue: q, task: task.name },
      { kind: 'attempt', queue: q, task: task.name, ok: true, status: 200 },
      { kind: 'task-removed', queue: q, task: task.name },
    ]);
    stop();
    engine.purgeQueue(q);
    expect(changes).toHaveLength(10);
  });

  it('keeps dispatching when a listener throws', async () => {
    const engine = makeEngine(() => 200);
    engine.onChange(() => {
      throw new Error('listener bug');
    });
    const q = `${PARENT}/queues/b`;
    engine.createQueue(PARENT, { name: q });
    engine.createTask(q, { http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    await engine.waitForIdle(5000);
    expect(engine.stats()).toMatchObject({ created: 1, succeeded: 1 });
  });
});

describe('Engine.queueSummaries', () => {
  it('lists the queues of every location by name with the tasks they hold', () => {
    const engine = makeEngine(() => 200);
    engine.createQueue('projects/p/locations/z', { name: 'projects/p/locations/z/queues/q', state: 'PAUSED' }, true);
    engine.createQueue(PARENT, { name: `${PARENT}/queues/q`, state: 'PAUSED' }, true);
    engine.createTask(`${PARENT}/queues/q`, { http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    expect(engine.queueSummaries().map((s) => [s.queue.name, s.tasks, s.inFlight])).toEqual([
      [`${PARENT}/queues/q`, 1, 0],
      ['projects/p/locations/z/queues/q', 0, 0],
    ]);
  });
});
