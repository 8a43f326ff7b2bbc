import { afterEach, describe, expect, it } from 'vitest';
import { pushRequest, type Delivery, type PushResult } from '../../../src/emulator/dispatch.js';
import { realClock, settleAfter, VirtualClock, type Clock } from '../../../src/emulator/engine/clock.js';
import { Engine } from '../../../src/emulator/engine/engine.js';
import { OidcSigner } from '../../../src/emulator/oidc.js';
import { testEngineOptions } from '../../helpers/engine-options.js';

const PARENT = 'projects/p/locations/l';
const QUEUE = `${PARENT}/queues/q`;
const signer = new OidcSigner('http://issuer.test', 'http://issuer.test/.well-known/jwks.json');
const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

/**
 * A small scenario: six named tasks, a rate limit that lets four go at once and then one per 100 ms,
 * targets that fail a task's first two (503, 409) or first attempt, answered after 20 ms. Every
 * event is tens of milliseconds from the next, so a busy machine's late timers cannot reorder them.
 */
function runScenario(clock: Clock): { engine: Engine; dispatches: string[] } {
  const dispatches: string[] = [];
  const failures: Record<string, number[]> = { a: [503, 409], c: [500], e: [409] };
  const engine = new Engine(testEngineOptions({
    clock,
    push: (d: Delivery) => {
      const req = pushRequest(d, signer);
      const id = req.headers['x-cloudtasks-taskname']!;
      const retry = Number(req.headers['x-cloudtasks-taskretrycount']);
      dispatches.push(`${id}#${retry}`);
      const status = failures[id]?.[retry] ?? 200;
      return settleAfter<PushResult>(clock, 20, () => ({ kind: 'response', status }));
    },
  }));
  engines.push(engine);
  engine.createQueue(PARENT, {
    name: QUEUE,
    rateLimits: { maxDispatchesPerSecond: 10, maxConcurrentDispatches: 3 },
    retryConfig: { minBackoffMs: 150, maxBackoffMs: 600, maxDoublings: 2, maxAttempts: 10 },
  });
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) engine.createTask(QUEUE, { name: `${QUEUE}/tasks/${id}`, http: { url: 'http://target.test/work', httpMethod: 'POST', headers: {} } });
  return { engine, dispatches };
}

describe('one engine, two clocks', () => {
  it('dispatches a small scenario in the same order on a virtual clock as on the real one', async () => {
    const virtual = new VirtualClock(1_700_000_000_000);
    const v = runScenario(virtual);
    virtual.runUntil(virtual.now() + 60_000);
    expect(v.engine.stats()).toMatchObject({ created: 6, succeeded: 6 });

    const r = runScenario(realClock);
    await r.engine.waitForIdle(20_000);
    expect(r.dispatches).toEqual(v.dispatches);
    // The sequence is the scenario's, not an empty or trivial one: every retry is in it.
    expect(v.dispatches).toEqual(expect.arrayContaining(['a#0', 'a#1', 'a#2', 'c#1', 'e#1']));
    expect(v.dispatches).toHaveLength(10);
  });

  it('replays an hour of virtual time without waiting for it', () => {
    const clock = new VirtualClock(0);
    const { engine } = runScenario(clock);
    const tick = (): void => {
      engine.createTask(QUEUE, { http: { url: 'http://target.test/work', httpMethod: 'POST', headers: {} } });
      if (clock.now() < 3_600_000) clock.setTimer(tick, 1000);
    };
    tick();
    clock.runUntil(3_700_000);
    expect(clock.now()).toBe(3_700_000);
    expect(engine.stats()).toMatchObject({ created: 6 + 3601, succeeded: 6 + 3601 });
  });
});
