/**
 * Per-queue activity over the last minutes, in one-second buckets, fed by engine changes: what
 * the dashboard's chart and "dispatches per second" show. Memory is bounded (a fixed ring per queue).
 */
import type { EngineChange } from '../engine/changes.js';

/** What happened on a queue during one second. */
export interface Bucket {
  /** Start of the second, epoch ms. */
  at: number;
  /** Dispatches that ended (answered or not). */
  dispatched: number;
  /** Dispatches that ended without a 2xx: each one is retried, or dropped at the retry limits. */
  failed: number;
  /** Tasks created in the queue. */
  created: number;
}

/** Seconds of history kept per queue. */
export const SERIES_SECONDS = 120;

/** Rolling per-second counters of every queue. */
export class QueueSeries {
  private readonly rings = new Map<string, Bucket[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one engine change. */
  record(change: EngineChange): void {
    if (change.kind === 'queue-deleted') {
      this.rings.delete(change.queue);
      return;
    }
    if (change.kind !== 'attempt' && change.kind !== 'task-created') return;
    const b = this.current(change.queue);
    if (change.kind === 'task-created') b.created++;
    else {
      b.dispatched++;
      if (!change.ok) b.failed++;
    }
  }

  /** The last `seconds` buckets of a queue, oldest first, one per second (empty seconds as zeros). */
  window(queue: string, seconds = 60): Bucket[] {
    const end = Math.floor(this.now() / 1000) * 1000;
    const byAt = new Map((this.rings.get(queue) ?? []).map((b) => [b.at, b]));
    const out: Bucket[] = [];
    for (let at = end - (seconds - 1) * 1000; at <= end; at += 1000) out.push(byAt.get(at) ?? { at, dispatched: 0, failed: 0, created: 0 });
    return out;
  }

  /** Dispatches per second over the last `seconds` full seconds. */
  dispatchRate(queue: string, seconds = 5): number {
    const w = this.window(queue, seconds + 1).slice(0, seconds);
    return w.reduce((s, b) => s + b.dispatched, 0) / seconds;
  }

  private current(queue: string): Bucket {
    const at = Math.floor(this.now() / 1000) * 1000;
    let ring = this.rings.get(queue);
    if (ring === undefined) {
      ring = [];
      this.rings.set(queue, ring);
    }
    const last = ring[ring.length - 1];
    if (last !== undefined && last.at === at) return last;
    const b: Bucket = { at, dispatched: 0, failed: 0, created: 0 };
    ring.push(b);
    while (ring.length > 0 && ring[0]!.at <= at - SERIES_SECONDS * 1000) ring.shift();
    return b;
  }
}
