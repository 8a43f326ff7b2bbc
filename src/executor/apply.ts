/**
 * Turns a handoff action (forward, notification, dead letter) into the description of the task it
 * calls for, and creates it through the injected CreateTask operation (src/queues/create-task.ts),
 * which names it deterministically, attaches TASKS_SERVICE_ACCOUNT's OIDC token and counts
 * ALREADY_EXISTS as done. A job's notification has one name whatever its outcome and tier, so the
 * first decision wins. With NOTIFY_TOPIC the outcome is also (or only) published, through the
 * injected Publish operation (src/queues/publish.ts), after the task: Pub/Sub cannot deduplicate,
 * so the message carries a deterministic `eventId` instead. A spent budget goes to NEXT_TOPIC when
 * the next tier is a topic. A failed enqueue or publish throws {@link HandoffError}: the caller
 * answers 503 and remembers the outcome (unfinished-handoffs.ts), and the redelivery redoes the
 * handoff — the tasks it already created are found by name, the publish happens again with the
 * same `eventId`.
 */
import { CodedError, messageOf } from '../errors.js';
import { createHash } from 'node:crypto';
import type { CreateTask, TaskDescription } from '../queues/create-task.js';
import { handoffTaskId, outcomeEventId, outcomeTaskId, type HandoffKind } from '../queues/names.js';
import type { Publish } from '../queues/publish.js';
import type { WorkError } from '../work/types.js';
import { encodeDeadLetterNotice, encodeNotification, type DecodedBody, type EncodedNotification } from './codecs.js';
import type { Action } from './decide.js';
import { FORWARD_HEADERS, formatPath, type Delivery, type Hop } from './delivery.js';
import { queueIdOf, type Tier } from './tier.js';

/** The actions that create a task. */
export type Handoff = Extract<Action, { kind: 'forward' | 'notify' | 'dead-letter' }>;

/** What the push path knows when it hands off. */
export interface ApplyContext {
  delivery: Delivery;
  /** The job's bytes, forwarded unchanged: the push body, or a Pub/Sub push's `message.data`. */
  body: Buffer;
  /** The push body as received, when it differs from `body` (a Pub/Sub envelope): dead-lettered as is. */
  received?: Buffer;
  /** The push's Content-Type, carried onto forwarded and dead-lettered tasks. */
  contentType?: string;
  /** The decoded body; absent for undecodable pushes. */
  decoded?: DecodedBody;
  /** This push's tier number. */
  tier: number;
  /** Now. */
  now: Date;
  /** Trace headers every created task carries (trace.ts `traceHeadersToCarry`). */
  traceHeaders?: Record<string, string>;
}

/** The message a handoff published. */
export interface PublishedOutcome {
  /** Full topic name. */
  topic: string;
  /** The server's id of the message. */
  messageId: string;
  /** The message's `eventId` attribute (outcome messages only): the same on every redelivery. */
  eventId?: string;
}

/** The task a handoff created (or found), and the message it published. */
export interface HandoffResult {
  kind: HandoffKind;
  /** Full task name, when it was chosen deterministically. */
  task?: string;
  /** `exists` when an earlier delivery had already created the task; `published` when there was only a message. */
  result: 'created' | 'exists' | 'published';
  /** The message published to NOTIFY_TOPIC (or, for a forward, NEXT_TOPIC). */
  message?: PublishedOutcome;
}

/** Attribute names of outcome messages (all values are strings, as Pub/Sub requires). */
export const OUTCOME_ATTRIBUTES = {
  outcome: 'outcome',
  jobId: 'jobId',
  tier: 'tier',
  attempts: 'attempts',
  format: 'format',
  eventId: 'eventId',
  origin: 'origin',
  /** The push's W3C traceparent, under the name @google-cloud/pubsub's own tracing reads. */
  traceparent: 'googclient_traceparent',
} as const;

/** A task could not be created; answer 503 so Cloud Tasks redelivers and the handoff is redone. */
export class HandoffError extends CodedError {
  /** The handoff that failed. */
  readonly kind: HandoffKind;

  constructor(kind: HandoffKind, target: string, cause: unknown) {
    const detail = messageOf(cause);
    super(
      'HANDOFF_FAILED',
      target.includes('/topics/')
        ? `Could not publish the ${kind} message to ${target}: ${detail}. Answering 503 so the push is redelivered and the handoff is retried; check the topic exists and the runtime account has roles/pubsub.publisher on it.`
        : `Could not create the ${kind} task in ${target}: ${detail}. Answering 503 so the push is redelivered and the handoff is retried; check the queue exists and TASKS_SERVICE_ACCOUNT may enqueue to it.`,
      { cause },
    );
    this.name = 'HandoffError';
    this.kind = kind;
  }
}

/** Raised when an action needs a target the configuration lacks (decide should make this impossible). */
export class HandoffTargetMissingError extends CodedError {
  constructor(what: string) {
    super('HANDOFF_TARGET_MISSING', `Cannot hand off: ${what} is not configured`);
    this.name = 'HandoffTargetMissingError';
  }
}

/** Keeps a header value to printable ASCII and a sane length (Cloud Tasks rejects others). */
function headerSafe(value: string, max = 1000): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

/** Attempts this tier spent on the work (an attempt past the budget counts as the last). */
function spent(tier: Tier, ctx: ApplyContext): number {
  return Math.min(ctx.delivery.attempt, tier.maxAttempts);
}

/** Every tier passed, this one last. */
function pathWithThisTier(tier: Tier, ctx: ApplyContext): Hop[] {
  return [...ctx.delivery.path, { queue: queueIdOf(tier, ctx.delivery, ctx.tier), attempts: spent(tier, ctx) }];
}

/** Total attempts of the job across tiers, this one included. */
function totalAttempts(tier: Tier, ctx: ApplyContext): number {
  return pathWithThisTier(tier, ctx).reduce((sum, hop) => sum + hop.attempts, 0);
}

/** The job's own id: the envelope's `id`, else the SvcWorkRequest context's `id`. */
function jobIdOf(decoded: DecodedBody | undefined): string | undefined {
  if (decoded === undefined) return undefined;
  if (decoded.id !== undefined) return decoded.id;
  const id = (decoded.context as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Keeps an attribute value within Pub/Sub's 1024 bytes (ids rarely come near). */
function attributeSafe(value: string): string {
  return Buffer.byteLength(value) <= 1024 ? value : Buffer.from(value).subarray(0, 1024).toString('utf8').replace(/\uFFFD$/, '');
}

function origin(ctx: ApplyContext): string | undefined {
  if (ctx.delivery.origin !== undefined) return ctx.delivery.origin;
  const { queue, taskName } = ctx.delivery;
  return queue !== undefined && taskName !== undefined ? `${queue}/${taskName}` : undefined;
}

/** A task that passes the push's body on unchanged, with its Content-Type and the job's origin. */
function relay(ctx: ApplyContext, target: { queue: string; url: string }, headers: Record<string, string>): Omit<TaskDescription, 'taskId' | 'serviceAccount'> {
  const from = origin(ctx);
  return {
    queue: target.queue,
    url: target.url,
    body: ctx.body,
    headers: { 'Content-Type': ctx.contentType ?? 'application/octet-stream', ...headers, ...(from !== undefined ? { [FORWARD_HEADERS.origin]: from } : {}) },
  };
}

/**
 * The deterministic id of the task a handoff creates; undefined when the push names no source. A
 * notification is named after the job's origin alone, so success and failure, sent by any tier,
 * share one name.
 */
function handoffId(kind: HandoffKind, ctx: ApplyContext): string | undefined {
  if (kind === 'notify-success' || kind === 'notify-failure') {
    const from = origin(ctx);
    return from !== undefined ? outcomeTaskId(from) : undefined;
  }
  const { queue: sourceQueue, taskName } = ctx.delivery;
  return sourceQueue !== undefined && taskName !== undefined ? handoffTaskId(sourceQueue, taskName, kind) : undefined;
}

/**
 * Makes the function that carries out handoffs with `createTask`, for this tier. (A closure: the
 * three handoffs share `create` and this tier's targets; each describes one task and is short.)
 */
export function makeApplier(createTask: CreateTask, tier: Tier, publish?: Publish) {
  const { targets } = tier;

  async function send(kind: HandoffKind, topic: string, data: Buffer, attributes: Record<string, string>): Promise<PublishedOutcome> {
    if (publish === undefined) throw new HandoffTargetMissingError('a Pub/Sub publisher');
    try {
      const sent = await publish({ topic, data, attributes });
      return { topic, messageId: sent.messageId };
    } catch (err) {
      throw new HandoffError(kind, topic, err);
    }
  }

  /**
   * Publishes a terminal outcome to NOTIFY_TOPIC. The `eventId` is derived from the job's origin
   * (or, for a push naming no source, its bytes) and the outcome, so every redelivery of the push
   * publishes a message subscribers recognise as the same event.
   */
  async function publishOutcome(
    kind: HandoffKind,
    ctx: ApplyContext,
    outcome: 'succeeded' | 'failed' | 'dead-lettered',
    encoded: EncodedNotification,
  ): Promise<PublishedOutcome> {
    const topic = targets.notifyTopic;
    if (topic === undefined) throw new HandoffTargetMissingError('NOTIFY_TOPIC');
    const from = origin(ctx);
    const source = from ?? `body:${createHash('sha256').update(ctx.received ?? ctx.body).digest('hex')}`;
    const eventId = outcomeEventId(source, outcome);
    const jobId = jobIdOf(ctx.decoded);
    const traceparent = ctx.traceHeaders?.traceparent;
    const A = OUTCOME_ATTRIBUTES;
    const attributes: Record<string, string> = {
      [A.outcome]: outcome,
      [A.tier]: String(ctx.tier),
      [A.attempts]: String(totalAttempts(tier, ctx)),
      [A.format]: ctx.decoded?.job.format ?? 'undecodable',
      [A.eventId]: eventId,
      'content-type': encoded.contentType,
      ...(jobId !== undefined ? { [A.jobId]: attributeSafe(jobId) } : {}),
      ...(from !== undefined ? { [A.origin]: from } : {}),
      ...(traceparent !== undefined ? { [A.traceparent]: traceparent } : {}),
    };
    return { ...(await send(kind, topic, encoded.body, attributes)), eventId };
  }

  async function create(kind: HandoffKind, ctx: ApplyContext, task: Omit<TaskDescription, 'taskId' | 'serviceAccount'>): Promise<HandoffResult> {
    // Without the source's names (a push that did not come from Cloud Tasks) there is nothing to
    // derive a stable name from; the server names the task and duplicates are possible.
    const taskId = handoffId(kind, ctx);
    try {
      const created = await createTask({
        ...task,
        headers: { ...ctx.traceHeaders, ...task.headers },
        ...(taskId !== undefined ? { taskId } : {}),
        ...(targets.serviceAccount !== undefined ? { serviceAccount: targets.serviceAccount } : {}),
      });
      return { kind, ...(taskId !== undefined ? { task: created.name } : {}), result: created.result };
    } catch (err) {
      throw new HandoffError(kind, task.queue, err);
    }
  }

  /**
   * Forwards to NEXT_TOPIC: the job's bytes as the data, the message's own attributes kept (when it
   * came from Pub/Sub) and the forwarding facts as `x-executor-*` attributes. Not deduplicated:
   * a redelivered push forwards again, and the next tier's notification name (from the origin)
   * keeps the webhook's notice single; outcome messages keep their `eventId`.
   */
  async function forwardToTopic(ctx: ApplyContext, topic: string): Promise<HandoffResult> {
    const from = origin(ctx);
    const kept = Object.entries(ctx.delivery.pubsub?.attributes ?? {}).filter(([k]) => !k.startsWith('x-executor-') && k !== OUTCOME_ATTRIBUTES.traceparent);
    const traceparent = ctx.traceHeaders?.traceparent;
    const attributes: Record<string, string> = {
      ...Object.fromEntries(kept),
      [FORWARD_HEADERS.tier.toLowerCase()]: String(ctx.tier + 1),
      [FORWARD_HEADERS.path.toLowerCase()]: formatPath(pathWithThisTier(tier, ctx)),
      ...(from !== undefined ? { [FORWARD_HEADERS.origin.toLowerCase()]: from } : {}),
      ...(traceparent !== undefined ? { [OUTCOME_ATTRIBUTES.traceparent]: traceparent } : {}),
    };
    const message = await send('forward', topic, ctx.body, attributes);
    return { kind: 'forward', result: 'published', message };
  }

  function forward(ctx: ApplyContext): Promise<HandoffResult> {
    if (targets.nextTopic !== undefined) return forwardToTopic(ctx, targets.nextTopic);
    const next = targets.next;
    if (next === undefined) throw new HandoffTargetMissingError('PROBLEM_QUEUE/PROBLEM_SERVICE or NEXT_TOPIC');
    return create(
      'forward',
      ctx,
      relay(ctx, next, { [FORWARD_HEADERS.tier]: String(ctx.tier + 1), [FORWARD_HEADERS.path]: formatPath(pathWithThisTier(tier, ctx)) }),
    );
  }

  async function notify(
    ctx: ApplyContext,
    outcome: 'succeeded' | 'failed',
    error: WorkError | undefined,
    result: unknown,
    via: 'queue' | 'topic' | 'both',
  ): Promise<HandoffResult> {
    if (ctx.decoded === undefined) throw new HandoffTargetMissingError('a decoded job to notify about');
    const kind = outcome === 'succeeded' ? 'notify-success' : 'notify-failure';
    const encoded = notification(ctx, ctx.decoded, outcome, error, result);
    // The task first: it is the idempotent half, so a publish that fails and is redone after it
    // finds the task by name and creates nothing twice.
    const task = via === 'topic' ? undefined : await notifyTask(ctx, ctx.decoded, kind, outcome, encoded);
    if (via === 'queue') return task!;
    const message = await publishOutcome('outcome-message', ctx, outcome, encoded);
    return task !== undefined ? { ...task, message } : { kind, result: 'published', message };
  }

  function notifyTask(ctx: ApplyContext, decoded: DecodedBody, kind: HandoffKind, outcome: 'succeeded' | 'failed', encoded: EncodedNotification): Promise<HandoffResult> {
    const queue = targets.notifierQueue;
    if (queue === undefined) throw new HandoffTargetMissingError('NOTIFIER_QUEUE');
    const url = decoded.job.webhookUrl ?? targets.notifyUrl;
    if (url === undefined) throw new HandoffTargetMissingError('a webhook (the job names none and NOTIFY_URL is unset)');
    return create(kind, ctx, {
      queue,
      url,
      body: encoded.body,
      headers: { 'Content-Type': encoded.contentType, 'X-Executor-Outcome': outcome },
    });
  }

  /** The notification the webhook gets, in the job's format; the same bytes go to NOTIFY_TOPIC. */
  function notification(ctx: ApplyContext, decoded: DecodedBody, outcome: 'succeeded' | 'failed', error: WorkError | undefined, result: unknown): EncodedNotification {
    const from = origin(ctx);
    return encodeNotification(decoded, {
      outcome,
      ...(error !== undefined ? { error } : {}),
      ...(result !== undefined ? { result } : {}),
      tier: ctx.tier,
      path: pathWithThisTier(tier, ctx),
      task: {
        ...(ctx.delivery.queue !== undefined ? { queue: ctx.delivery.queue } : {}),
        ...(ctx.delivery.taskName !== undefined ? { name: ctx.delivery.taskName } : {}),
      },
      ...(from !== undefined ? { origin: from } : {}),
      ...(ctx.delivery.eta !== undefined ? { scheduledAt: ctx.delivery.eta } : {}),
      completedAt: ctx.now,
    });
  }

  async function deadLetter(ctx: ApplyContext, error: WorkError, publishNotice: boolean): Promise<HandoffResult> {
    const target = targets.deadLetter;
    if (target === undefined) throw new HandoffTargetMissingError('DEAD_LETTER_QUEUE');
    // The push as received (a Pub/Sub envelope whole, with its attributes), for inspection.
    const task = await create('dead-letter', { ...ctx, body: ctx.received ?? ctx.body }, relay({ ...ctx, body: ctx.received ?? ctx.body }, target, {
      'X-Executor-Error-Type': headerSafe(error.type, 100),
      'X-Executor-Error': headerSafe(error.message),
      [FORWARD_HEADERS.tier]: String(ctx.tier),
    }));
    if (!publishNotice) return task;
    const from = origin(ctx);
    const encoded = encodeDeadLetterNotice({
      outcome: 'dead-lettered',
      error,
      tier: ctx.tier,
      task: {
        ...(ctx.delivery.queue !== undefined ? { queue: ctx.delivery.queue } : {}),
        ...(ctx.delivery.taskName !== undefined ? { name: ctx.delivery.taskName } : {}),
        ...(from !== undefined ? { origin: from } : {}),
      },
      timestamps: { completedAt: ctx.now.toISOString() },
    });
    return { ...task, message: await publishOutcome('outcome-message', ctx, 'dead-lettered', encoded) };
  }

  /** Carries out a handoff; throws {@link HandoffError} when its enqueue fails. */
  return async function apply(action: Handoff, ctx: ApplyContext): Promise<HandoffResult> {
    switch (action.kind) {
      case 'forward':
        return forward(ctx);
      case 'notify':
        return notify(ctx, action.outcome, action.error, action.result, action.via ?? 'queue');
      case 'dead-letter':
        return deadLetter(ctx, action.error, action.publish === true);
    }
  };
}

/** The function {@link makeApplier} returns. */
export type Apply = ReturnType<typeof makeApplier>;
