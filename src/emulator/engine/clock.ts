/**
 * The engine's sense of time, injected: the real clock (Date.now and Node's timers) for the
 * emulator, a virtual one for `executor simulate`, which replays hours of traffic in seconds with
 * the same scheduling, backoff, rate and throttling code.
 */
import { Heap } from './heap.js';

/** An opaque timer handle. */
export type TimerHandle = object;

/** Now, timers, and "soon" (after the current batch of work). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Calls `fn` once the current synchronous work is done (setImmediate on the real clock). */
  soon(fn: () => void): void;
}

/** Wall-clock time and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  soon: (fn) => void setImmediate(fn),
};

interface VirtualTimer {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/**
 * Time that moves only when `runUntil` moves it, from one due timer to the next, so a simulation
 * is deterministic and as fast as its callbacks. `soon` callbacks run before time advances.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Heap<VirtualTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private soonQueue: Array<() => void> = [];

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const t: VirtualTimer = { at: this.time + Math.max(0, ms), seq: ++this.seq, fn };
    this.timers.push(t);
    return t;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as VirtualTimer).fn = undefined;
  }

  soon(fn: () => void): void {
    this.soonQueue.push(fn);
  }

  /** Timers still pending (cancelled ones included until they come due). */
  get pending(): number {
    return this.timers.size + this.soonQueue.length;
  }

  /** Runs every callback due up to `endMs`, in time order, then leaves the clock at `endMs`. */
  runUntil(endMs: number): void {
    for (;;) {
      this.drainSoon();
      const top = this.timers.peek();
      if (top === undefined || top.at > endMs) break;
      this.timers.pop();
      const fn = top.fn;
      if (fn === undefined) continue;
      top.fn = undefined;
      if (top.at > this.time) this.time = top.at;
      fn();
    }
    if (endMs > this.time) this.time = endMs;
  }

  private drainSoon(): void {
    while (this.soonQueue.length > 0) {
      const batch = this.soonQueue;
      this.soonQueue = [];
      for (const fn of batch) fn();
    }
  }
}

/**
 * A result delivered by one of the clock's own timers, as a thenable whose callbacks run inside
 * that timer: on a virtual clock a completion then happens at its virtual time, not in a microtask
 * after the clock has moved on (which a Promise would do).
 */
export function settleAfter<T>(clock: Clock, ms: number, produce: () => T): PromiseLike<T> {
  return new Settled(clock, ms, produce);
}

class Settled<T> implements PromiseLike<T> {
  private onValue: ((value: T) => unknown) | undefined;
  private onError: ((reason: unknown) => unknown) | undefined;

  constructor(clock: Clock, ms: number, produce: () => T) {
    clock.setTimer(() => {
      let value: T;
      try {
        value = produce();
      } catch (err) {
        this.onError?.(err);
        return;
      }
      this.onValue?.(value);
    }, ms);
  }

  then<R1 = T, R2 = never>(onValue?: ((value: T) => R1 | PromiseLike<R1>) | null, onError?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): PromiseLike<R1 | R2> {
    this.onValue = onValue ?? undefined;
    this.onError = onError ?? undefined;
    // The engine does not chain on the result; nothing further settles.
    return this as unknown as PromiseLike<R1 | R2>;
  }
}
