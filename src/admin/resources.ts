/** How queues and tasks show in tables, and how names on the command line become full names. Pure. */
import type { protos } from '@google-cloud/tasks';
import { TASK_ID } from '../queues/paths.js';
import { resolveQueuePath, shortName, type QueuePath } from '../queues/index.js';
import type { Queue } from '../queues/queue-admin.js';
import type { Task } from '../queues/task-admin.js';
import type { Target } from './args.js';
import { formatDuration } from './duration.js';
import type { Column } from './format.js';

const TASK_PATH = /^projects\/[^/]+\/locations\/[^/]+\/queues\/[^/]+\/tasks\/[^/]+$/;

/** A timestamp as ISO 8601 (seconds), or '' when unset. */
export function formatTime(t: protos.google.protobuf.ITimestamp | null | undefined): string {
  if (t === null || t === undefined || t.seconds === null || t.seconds === undefined) return '';
  return new Date(Number(t.seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

const num = (v: unknown): string => (v === null || v === undefined ? '' : String(Number(v)));

/** The `queues list` table. */
export const QUEUE_COLUMNS: readonly Column<Queue>[] = [
  { heading: 'QUEUE', value: (q) => shortName(q.name ?? '') },
  { heading: 'STATE', value: (q) => String(q.state ?? '') },
  { heading: 'MAX_RATE', value: (q) => num(q.rateLimits?.maxDispatchesPerSecond) },
  { heading: 'MAX_CONCURRENT', value: (q) => num(q.rateLimits?.maxConcurrentDispatches) },
  { heading: 'MAX_ATTEMPTS', value: (q) => num(q.retryConfig?.maxAttempts) },
  { heading: 'MIN_BACKOFF', value: (q) => formatDuration(q.retryConfig?.minBackoff) },
  { heading: 'MAX_BACKOFF', value: (q) => formatDuration(q.retryConfig?.maxBackoff) },
];

/** The `tasks list` table. */
export const TASK_COLUMNS: readonly Column<Task>[] = [
  { heading: 'TASK', value: (t) => shortName(t.name ?? '') },
  { heading: 'SCHEDULE_TIME', value: (t) => formatTime(t.scheduleTime) },
  { heading: 'DISPATCHES', value: (t) => num(t.dispatchCount ?? 0) },
  { heading: 'RESPONSES', value: (t) => num(t.responseCount ?? 0) },
  { heading: 'LAST_STATUS', value: (t) => (t.lastAttempt?.responseStatus?.code ? `${t.lastAttempt.responseStatus.code} ${t.lastAttempt.responseStatus.message ?? ''}`.trim() : '') },
  { heading: 'URL', value: (t) => t.httpRequest?.url ?? '' },
];

/** A queue named on the command line (short id or full path) as its full path; problems pushed. */
export function queueName(flag: string, value: string | undefined, target: Target, problems: string[]): QueuePath | undefined {
  if (value === undefined) {
    problems.push(`${flag} is required: a queue id (with --project and --location) or projects/P/locations/L/queues/Q`);
    return undefined;
  }
  return resolveQueuePath(flag, value, target.project, target.location, problems, '--location');
}

/** A task named on the command line: a full task path, or a task id with --queue; problems pushed. */
export function taskName(value: string | undefined, queueFlag: string | undefined, target: Target, problems: string[]): string | undefined {
  if (value === undefined) {
    problems.push('TASK is required: a task id with --queue, or projects/P/locations/L/queues/Q/tasks/T');
    return undefined;
  }
  if (value.startsWith('projects/')) {
    if (!TASK_PATH.test(value)) problems.push(`TASK must be projects/P/locations/L/queues/Q/tasks/T or a task id, got '${value}'`);
    return value;
  }
  if (!TASK_ID.test(value)) {
    problems.push(`TASK must be a task id ([A-Za-z0-9_-], at most 500) or a full task path, got '${value}'`);
    return undefined;
  }
  const queue = queueName('--queue', queueFlag, target, problems);
  return queue === undefined ? undefined : `${queue}/tasks/${value}`;
}
