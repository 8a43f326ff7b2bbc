import { Heap } from '../engine/heap.js';
import type { Clock } from './clock.js';

/** A scheduled callback; `cancel()` makes it a no-op (it leaves the heap lazily). */
export interface TimerEntry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Many timed callbacks behind one clock timer: a heap by due time, the clock armed for the
 * earliest. Ack deadlines are set and cancelled for every message, so cancelling is O(1) (a flag)
 * and the heap is rebuilt when cancelled entries outnumber live ones.
 */
export class Timers {
  private readonly heap = new Heap<TimerEntry>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private handle: unknown;
  private armedAt = Infinity;
  private seq = 0;
  private cancelledCount = 0;
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` at clock time `at` (ms). */
  at(at: number, fn: () => void): TimerEntry {
    const entry: TimerEntry = { at, seq: ++this.seq, fn, cancelled: false };
    this.heap.push(entry);
    if (at < this.armedAt) this.arm();
    return entry;
  }

  cancel(entry: TimerEntry | undefined): void {
    if (entry === undefined || entry.cancelled) return;
    entry.cancelled = true;
    this.cancelledCount++;
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.size) this.compact();
  }

  /** Scheduled entries, cancelled ones included (for tests of the bookkeeping). */
  get size(): number {
    return this.heap.size;
  }

  close(): void {
    this.closed = true;
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.heap.clear();
  }

  private compact(): void {
    const live: TimerEntry[] = [];
    for (let e = this.heap.pop(); e !== undefined; e = this.heap.pop()) if (!e.cancelled) live.push(e);
    for (const e of live) this.heap.push(e);
    this.cancelledCount = 0;
  }

  private arm(): void {
    if (this.closed) return;
    while (this.heap.peek()?.cancelled === true) {
      this.heap.pop();
      this.cancelledCount--;
    }
    const top = this.heap.peek();
    const at = top?.at ?? Infinity;
    if (at === this.armedAt) return;
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = at;
    if (top !== undefined) this.handle = this.clock.setTimer(this.fire, at - this.clock.now());
  }

  private readonly fire = (): void => {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (top.cancelled) {
        this.cancelledCount--;
        continue;
      }
      top.fn();
      if (this.closed) return;
    }
    this.arm();
  };
}
