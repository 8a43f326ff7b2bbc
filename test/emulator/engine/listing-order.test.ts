import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emulator/engine/clock.js';
import { Engine } from '../../../src/emulator/engine/engine.js';
import { testEngineOptions } from '../../helpers/engine-options.js';

const PARENT = 'projects/p/locations/l';
const QUEUE = `${PARENT}/queues/q`;
const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

function pausedQueueWith(n: number): Engine {
  const engine = new Engine(testEngineOptions({ clock: new VirtualClock(1_700_000_000_000), push: () => new Promise(() => {}) }));
  engines.push(engine);
  engine.createQueue(PARENT, { name: QUEUE });
  engine.pauseQueue(QUEUE);
  for (let i = 0; i < n; i++) engine.createTask(QUEUE, { name: `${QUEUE}/tasks/t${i}`, http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
  return engine;
}

/** Every task id, page by page. */
function listAll(engine: Engine, size: number): string[] {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = engine.listTasks(QUEUE, size, token);
    expect(page.items.length).toBeLessThanOrEqual(size);
    ids.push(...page.items.map((t) => t.id));
    token = page.nextPageToken || undefined;
  } while (token !== undefined);
  return ids;
}

describe('ListTasks order after removals', () => {
  it('pages in creation order through tasks deleted from the front, the middle and at random', () => {
    const engine = pausedQueueWith(5000);
    const kept: string[] = [];
    for (let i = 0; i < 5000; i++) {
      // The first 1500 go (a drained front), then two of every three (enough to rebuild the index).
      const remove = i < 1500 || i % 3 !== 0;
      if (remove) engine.deleteTask(`${QUEUE}/tasks/t${i}`);
      else kept.push(`t${i}`);
    }
    expect(listAll(engine, 100)).toEqual(kept);
    expect(listAll(engine, 7)).toEqual(kept);
  });

  it('keeps a page token valid when the task it points after is deleted', () => {
    const engine = pausedQueueWith(300);
    const first = engine.listTasks(QUEUE, 100);
    engine.deleteTask(first.items[99]!.name);
    engine.deleteTask(`${QUEUE}/tasks/t100`);
    const next = engine.listTasks(QUEUE, 100, first.nextPageToken);
    expect(next.items[0]!.id).toBe('t101');
    expect(next.items).toHaveLength(100);
  });

  it('lists nothing after a purge, then the tasks created after it', () => {
    const engine = pausedQueueWith(50);
    engine.purgeQueue(QUEUE);
    expect(listAll(engine, 10)).toEqual([]);
    engine.createTask(QUEUE, { name: `${QUEUE}/tasks/after`, http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    expect(listAll(engine, 10)).toEqual(['after']);
  });
});
