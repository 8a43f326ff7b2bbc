import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery, PushResult } from '../../../src/emulator/dispatch.js';
import { VirtualClock, settleAfter, type TimerHandle } from '../../../src/emulator/engine/clock.js';
import { Engine } from '../../../src/emulator/engine/engine.js';
import { testEngineOptions } from '../../helpers/engine-options.js';

const PARENT = 'projects/p/locations/l';
const QUEUE = `${PARENT}/queues/q`;
const START = 1_700_000_000_000;
const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

/** A virtual clock that records every timer asked of it: "no timer wait" is then an event-order fact, not a wall-time one. */
class RecordingClock extends VirtualClock {
  readonly asked: number[] = [];
  override setTimer(fn: () => void, ms: number): TimerHandle {
    this.asked.push(ms);
    return super.setTimer(fn, ms);
  }
}

/** An engine on a recording clock whose pushes are answered after `answerMs` of virtual time. */
function setup(answerMs = 0, rateLimits?: { maxConcurrentDispatches?: number; maxDispatchesPerSecond?: number }) {
  const clock = new RecordingClock(START);
  const dispatched: Array<{ task: string; at: number }> = [];
  const engine = new Engine(
    testEngineOptions({
      clock,
      push: (d: Delivery) => {
        dispatched.push({ task: d.task.id, at: clock.now() });
        return settleAfter<PushResult>(clock, answerMs, () => ({ kind: 'response', status: 200 }));
      },
    }),
  );
  engines.push(engine);
  engine.createQueue(PARENT, { name: QUEUE, ...(rateLimits ? { rateLimits } : {}) });
  const create = (id: string, scheduleTimeMs?: number): void => {
    engine.createTask(QUEUE, { name: `${QUEUE}/tasks/${id}`, http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} }, ...(scheduleTimeMs !== undefined ? { scheduleTimeMs } : {}) });
  };
  /** Runs what is due without moving time: the `soon` batch, and timers due at this very instant. */
  const settleNow = (): void => clock.runUntil(clock.now());
  return { clock, engine, dispatched, create, settleNow };
}

describe('a task due now is dispatched without waiting on a timer', () => {
  it('dispatches a task created with no schedule time in the create batch, before time moves, arming no timer', () => {
    const { clock, dispatched, create, settleNow } = setup();
    create('a');
    expect(dispatched).toEqual([]); // batched: the create's answer goes out first
    settleNow();
    expect(dispatched).toEqual([{ task: 'a', at: START }]);
    expect(clock.asked.filter((ms) => ms > 0)).toEqual([]);
  });

  it('treats a schedule time inside the current millisecond (a client sending its own "now") as due', () => {
    const { clock, dispatched, create, settleNow } = setup();
    create('a', START + 0.7);
    create('b', START - 5_000);
    settleNow();
    expect(dispatched.map((d) => d.task)).toEqual(['b', 'a']); // in order of due time
    expect(clock.asked.filter((ms) => ms > 0)).toEqual([]);
  });

  it('dispatches each of many tasks created one at a time at once, while earlier ones are still in flight', () => {
    const { clock, dispatched, create, settleNow } = setup(7);
    // One task every 4 ms (250/s, under the queue's 500/s): the queue always has capacity.
    for (let i = 0; i < 500; i++) {
      const at = clock.now();
      create(`t${i}`);
      settleNow();
      expect(dispatched[i]).toEqual({ task: `t${i}`, at });
      clock.runUntil(at + 4);
    }
    // The only timers are the targets' answers (7 ms each): none was the engine waiting to dispatch.
    expect(clock.asked.every((ms) => ms === 7)).toBe(true);
  });

  it('waits for a completion, not a timer, when the queue is at maxConcurrentDispatches', () => {
    const { clock, dispatched, create, settleNow } = setup(10, { maxConcurrentDispatches: 1 });
    create('a');
    create('b');
    settleNow();
    expect(dispatched.map((d) => d.task)).toEqual(['a']);
    clock.runUntil(START + 10); // a's answer arrives; b goes in the same instant
    expect(dispatched).toEqual([
      { task: 'a', at: START },
      { task: 'b', at: START + 10 },
    ]);
    expect(clock.asked).toEqual([10, 10]);
  });

  it('arms one timer for a task due later, and dispatches it at its time', () => {
    const { clock, dispatched, create, settleNow } = setup();
    create('later', START + 250);
    settleNow();
    expect(dispatched).toEqual([]);
    expect(clock.asked).toEqual([250]);
    clock.runUntil(START + 250);
    expect(dispatched).toEqual([{ task: 'later', at: START + 250 }]);
  });
});
