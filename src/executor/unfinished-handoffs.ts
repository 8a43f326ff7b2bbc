/**
 * Outcomes of work whose handoff failed (the push was answered 503), kept in this instance's
 * memory so that the redelivery of the same task or message redoes only the handoff instead of
 * running the work again: during a notifier or next-tier outage a job is redelivered many times,
 * and each run would repeat its side effects. Per instance and best effort — a redelivery that
 * reaches another instance (or comes after a restart, or after the entry expired or was evicted)
 * runs the work again, as Cloud Tasks' and Pub/Sub's at-least-once contract allows.
 *
 * An entry is keyed by the delivery's identity (queue and task; subscription and message id) and
 * holds a digest of the job's bytes, so a task name that comes back with other bytes (a task
 * re-created under a reused name) runs its own work.
 */
import { createHash } from 'node:crypto';
import type { DecideOutcome } from './decide.js';
import type { Delivery } from './delivery.js';

/** Entries kept at most (default); the oldest is dropped first. */
export const UNFINISHED_HANDOFFS_MAX = 10_000;

/**
 * How long an entry is trusted, in ms (default 1 h): Cloud Tasks' default maximum backoff, and the
 * time during which Cloud Tasks refuses to reuse the name of an executed task.
 */
export const UNFINISHED_HANDOFF_TTL_MS = 60 * 60 * 1000;

/** Remembered outcomes, by delivery identity. */
export interface UnfinishedHandoffs {
  /** Entries held; the push path looks nothing up while it is 0. */
  readonly size: number;
  /** Keeps the outcome of a run whose handoff failed. */
  remember(key: string, body: Buffer, outcome: DecideOutcome): void;
  /** The outcome remembered for this delivery and these bytes, if any and still fresh. */
  recall(key: string, body: Buffer): DecideOutcome | undefined;
  /** Drops the entry once the handoff is done. */
  forget(key: string): void;
}

/**
 * The identity of a delivery across its redeliveries: `subscription/messageId` for a Pub/Sub push,
 * `queue/task` for a Cloud Tasks one; undefined for a push that names neither (not deduplicable).
 */
export function deliveryKey(delivery: Delivery): string | undefined {
  if (delivery.pubsub !== undefined) return `pubsub ${delivery.pubsub.subscription} ${delivery.pubsub.messageId}`;
  if (delivery.queue !== undefined && delivery.taskName !== undefined) return `task ${delivery.queue} ${delivery.taskName}`;
  return undefined;
}

interface Entry {
  digest: string;
  outcome: DecideOutcome;
  /** ms (from `now`) after which the entry is not used. */
  expires: number;
}

function digestOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** A store bounded by count and age; `now` in ms (default Date.now). */
export function makeUnfinishedHandoffs(options: { max?: number; ttlMs?: number; now?: () => number } = {}): UnfinishedHandoffs {
  const max = options.max ?? UNFINISHED_HANDOFFS_MAX;
  const ttlMs = options.ttlMs ?? UNFINISHED_HANDOFF_TTL_MS;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, and remember() re-inserts: the first key is the oldest.
  const entries = new Map<string, Entry>();
  return {
    get size() {
      return entries.size;
    },
    remember(key, body, outcome) {
      if (max <= 0) return;
      entries.delete(key);
      while (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(key, { digest: digestOf(body), outcome, expires: now() + ttlMs });
    },
    recall(key, body) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (now() > entry.expires) {
        entries.delete(key);
        return undefined;
      }
      return entry.digest === digestOf(body) ? entry.outcome : undefined;
    },
    forget(key) {
      entries.delete(key);
    },
  };
}
