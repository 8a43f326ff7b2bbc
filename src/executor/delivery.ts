/**
 * Reads what Cloud Tasks (and an earlier executor tier) says about a push from its headers. Pure:
 * headers in, a typed {@link Delivery} out. Malformed values never throw: they are treated as absent
 * and reported in `warnings`, because a push must still be answered (and a 400 would only make
 * Cloud Tasks send the same headers again).
 */
import type { PubSubFacts } from '../work/types.js';

/** Header names Cloud Tasks sets on HTTP-target pushes (lower case, as Node exposes them). */
export const CLOUD_TASKS_HEADERS = {
  queue: 'x-cloudtasks-queuename',
  task: 'x-cloudtasks-taskname',
  retryCount: 'x-cloudtasks-taskretrycount',
  executionCount: 'x-cloudtasks-taskexecutioncount',
  eta: 'x-cloudtasks-tasketa',
  previousResponse: 'x-cloudtasks-taskpreviousresponse',
  retryReason: 'x-cloudtasks-taskretryreason',
} as const;

/** Headers this executor puts on tasks it forwards to the next tier (and, lower-cased, attributes on messages it forwards to a topic). */
export const FORWARD_HEADERS = {
  /** Number of the tier the task is addressed to (1 = first). */
  tier: 'X-Executor-Tier',
  /** Tiers already passed: `queue=attempts` pairs, comma-separated, oldest first. */
  path: 'X-Executor-Path',
  /** `queue/task` of the task as the first tier received it. */
  origin: 'X-Executor-Origin',
} as const;

/** One tier a task has already passed through. */
export interface Hop {
  /** Short id of that tier's queue. */
  queue: string;
  /** Attempts spent there. */
  attempts: number;
}

/** Everything the headers say about one push. */
export interface Delivery {
  /** Short queue id (`X-CloudTasks-QueueName`). */
  queue?: string;
  /** Short task id (`X-CloudTasks-TaskName`). */
  taskName?: string;
  /** `X-CloudTasks-TaskRetryCount`: dispatches before this one (5xx, timeouts and refused connections included). */
  retryCount?: number;
  /** `X-CloudTasks-TaskExecutionCount`: answers before this one that the target returned (5xx excluded). */
  executionCount?: number;
  /** 1-based attempt of the work on this tier: ExecutionCount + 1, else RetryCount + 1, else 1. */
  attempt: number;
  /** Scheduled time of this dispatch (`X-CloudTasks-TaskETA`). */
  eta?: Date;
  /** HTTP status of the previous dispatch (`X-CloudTasks-TaskPreviousResponse`). */
  previousResponse?: number;
  /** Why this is a retry (`X-CloudTasks-TaskRetryReason`). */
  retryReason?: string;
  /** Tier this task was forwarded to (`X-Executor-Tier`), when an earlier tier said. */
  tier?: number;
  /** Tiers already passed, oldest first. */
  path: Hop[];
  /** `queue/task` at the first tier (`X-Executor-Origin`). */
  origin?: string;
  /** Headers that were present but malformed, and were ignored. */
  warnings: string[];
  /** The message's facts, when this is a Pub/Sub push. */
  pubsub?: PubSubFacts;
}

/** Node's header map: values are strings, or arrays for repeated headers. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** Lower-case forms of the header names read here (Node lower-cases incoming names), computed once. */
const LOWER = new Map<string, string>(
  [...Object.values(CLOUD_TASKS_HEADERS), ...Object.values(FORWARD_HEADERS)].map((name) => [name, name.toLowerCase()]),
);

function header(headers: HeaderBag, name: string): string | undefined {
  const lower = LOWER.get(name) ?? name.toLowerCase();
  const value = headers[name] ?? (lower !== name ? headers[lower] : undefined);
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === '') return undefined;
  const trimmed = first.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The value of a string of 1 to 9 ASCII digits, or -1: a loop, as this runs on every push. */
function smallInt(raw: string): number {
  if (raw.length === 0 || raw.length > 9) return -1;
  let value = 0;
  for (let i = 0; i < raw.length; i++) {
    const digit = raw.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function count(headers: HeaderBag, name: string, warnings: string[]): number | undefined {
  const raw = header(headers, name);
  if (raw === undefined) return undefined;
  const value = smallInt(raw);
  if (value === -1) {
    warnings.push(`${name} is not a non-negative integer: '${raw.slice(0, 40)}'`);
    return undefined;
  }
  return value;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,500}$/;

/** Parses `X-Executor-Path`: `queue=attempts,queue=attempts`. */
export function parsePath(raw: string): Hop[] | undefined {
  const hops: Hop[] = [];
  for (const part of raw.split(',')) {
    const match = /^\s*([A-Za-z0-9-]{1,100})=(\d{1,9})\s*$/.exec(part);
    if (!match) return undefined;
    hops.push({ queue: match[1]!, attempts: Number(match[2]) });
  }
  return hops;
}

/** Formats hops for `X-Executor-Path`. */
export function formatPath(hops: readonly Hop[]): string {
  return hops.map((h) => `${h.queue}=${h.attempts}`).join(',');
}

/** Reads a push's delivery facts from its headers. */
export function readDelivery(headers: HeaderBag): Delivery {
  const warnings: string[] = [];
  const h = CLOUD_TASKS_HEADERS;
  const retryCount = count(headers, h.retryCount, warnings);
  const executionCount = count(headers, h.executionCount, warnings);
  // ExecutionCount counts the answers the target returned, 5xx excluded: with handled failures
  // answered 409, exactly the runs of the work that ended in a retry. RetryCount also counts
  // dispatches that never reached the executor (refused connections while a tier restarts,
  // timeouts, concurrent RunTask dispatches) and the executor's own 503s, which must not spend the
  // work's budget. (The original executor answered failures with 5xx, which is why it saw "always 0".)
  const attempt = executionCount !== undefined ? executionCount + 1 : retryCount !== undefined ? retryCount + 1 : 1;

  const delivery: Delivery = { attempt, path: [], warnings };
  const queue = header(headers, h.queue);
  if (queue !== undefined) {
    if (SAFE_ID.test(queue)) delivery.queue = queue;
    else warnings.push(`${h.queue} is not a queue id`);
  }
  const task = header(headers, h.task);
  if (task !== undefined) {
    if (SAFE_ID.test(task)) delivery.taskName = task;
    else warnings.push(`${h.task} is not a task id`);
  }
  if (retryCount !== undefined) delivery.retryCount = retryCount;
  if (executionCount !== undefined) delivery.executionCount = executionCount;

  const eta = header(headers, h.eta);
  if (eta !== undefined) {
    // Seconds since the epoch, with a fractional part.
    const seconds = /^\d{1,12}(\.\d+)?$/.test(eta) ? Number(eta) : NaN;
    if (Number.isFinite(seconds)) delivery.eta = new Date(Math.round(seconds * 1000));
    else warnings.push(`${h.eta} is not seconds since the epoch: '${eta.slice(0, 40)}'`);
  }
  const previous = header(headers, h.previousResponse);
  if (previous !== undefined) {
    if (/^\d{1,3}$/.test(previous)) delivery.previousResponse = Number(previous);
    else warnings.push(`${h.previousResponse} is not an HTTP status: '${previous.slice(0, 40)}'`);
  }
  const reason = header(headers, h.retryReason);
  if (reason !== undefined) delivery.retryReason = reason.slice(0, 200);

  const tier = header(headers, FORWARD_HEADERS.tier);
  if (tier !== undefined) {
    if (/^\d{1,4}$/.test(tier) && Number(tier) >= 1) delivery.tier = Number(tier);
    else warnings.push(`${FORWARD_HEADERS.tier} is not a positive integer: '${tier.slice(0, 40)}'`);
  }
  const path = header(headers, FORWARD_HEADERS.path);
  if (path !== undefined) {
    const hops = parsePath(path);
    if (hops !== undefined) delivery.path = hops;
    else warnings.push(`${FORWARD_HEADERS.path} is not a list of queue=attempts: '${path.slice(0, 80)}'`);
  }
  const origin = header(headers, FORWARD_HEADERS.origin);
  if (origin !== undefined) {
    if (/^[A-Za-z0-9-]{1,100}\/[A-Za-z0-9_-]{1,500}$/.test(origin)) delivery.origin = origin;
    else warnings.push(`${FORWARD_HEADERS.origin} is not queue/task`);
  }
  return delivery;
}

/**
 * The queue-like id of a subscription, for paths, origins and handoff names: its short id with
 * anything outside [A-Za-z0-9-] replaced by `-` (subscription ids allow `_.~+%`, queue ids do not).
 */
export function subscriptionQueueId(subscription: string): string {
  const id = subscription.slice(subscription.lastIndexOf('/') + 1);
  return id.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 100);
}

/**
 * The delivery of a Pub/Sub push: the attempt is `deliveryAttempt` (1 when the subscription has no
 * dead-letter policy: Pub/Sub then sends none, and the budget cannot be counted), the source is
 * (subscription, message id) in place of (queue, task), and an earlier tier's forwarding facts come
 * from the message's `x-executor-*` attributes.
 */
export function readPubSubDelivery(facts: PubSubFacts): Delivery {
  const bag: HeaderBag = {};
  for (const name of Object.values(FORWARD_HEADERS)) {
    const value = facts.attributes[name.toLowerCase()];
    if (value !== undefined) bag[name.toLowerCase()] = value;
  }
  const delivery = readDelivery(bag);
  delivery.attempt = facts.deliveryAttempt ?? 1;
  delivery.queue = subscriptionQueueId(facts.subscription);
  if (SAFE_ID.test(facts.messageId)) delivery.taskName = facts.messageId;
  delivery.pubsub = facts;
  return delivery;
}
