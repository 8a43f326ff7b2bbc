/**
 * Deterministic task names. A forward or dead letter is named after the task that caused it, so a
 * repeated delivery asks Cloud Tasks for the same name again and gets ALREADY_EXISTS instead of a
 * duplicate handoff. A job's notification is named after the job's origin alone — whatever its
 * outcome and whichever tier sends it — so the first terminal decision wins and any later one
 * (a redelivery that ran the work again, a duplicate that went on to the next tier) creates nothing.
 */
import { createHash } from 'node:crypto';
import type { QueuePath } from './paths.js';

/** Why a task is created; part of its name so different actions on one source never collide. */
export type HandoffKind = 'forward' | 'notify-success' | 'notify-failure' | 'dead-letter' | 'outcome-message';

/**
 * A task id (`[A-Za-z0-9_-]`, ≤ 500) derived from the source queue, the source task and the action.
 * A hash rather than a concatenation: ids stay short, and Cloud Tasks spreads load best when names
 * do not share sequential prefixes.
 */
export function handoffTaskId(sourceQueue: string, sourceTask: string, kind: HandoffKind): string {
  const digest = createHash('sha256').update(`${sourceQueue}\n${sourceTask}\n${kind}`).digest('hex');
  return `${kind}-${digest.slice(0, 40)}`;
}

/**
 * The id of a job's one terminal notification (`notify-…`), from the job's origin (`queue/task` as
 * the first tier received it): the same for success and failure and on every tier.
 */
export function outcomeTaskId(origin: string): string {
  const digest = createHash('sha256').update(`${origin}\noutcome`).digest('hex');
  return `notify-${digest.slice(0, 40)}`;
}

/**
 * The `eventId` of a job's outcome message on NOTIFY_TOPIC: from the job's origin (or, for a push
 * that names no source, a digest of its body) and the outcome. Publishing is at-least-once — a
 * redelivered push publishes again — so subscribers deduplicate on it.
 */
export function outcomeEventId(source: string, outcome: string): string {
  return createHash('sha256').update(`${source}\n${outcome}\nevent`).digest('hex').slice(0, 40);
}

/** Full resource name of a task in a queue. */
export function taskPath(queue: QueuePath, taskId: string): string {
  return `${queue}/tasks/${taskId}`;
}

/** The last segment of a resource name (`…/queues/q` → `q`); the value itself if it has none. */
export function shortName(resource: string): string {
  const i = resource.lastIndexOf('/');
  return i === -1 ? resource : resource.slice(i + 1);
}
