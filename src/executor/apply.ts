/**
 * Turns a handoff action (forward, notification, dead letter) into the description of the one task
 * it calls for, and creates it through the injected CreateTask operation (src/queues/create-task.ts),
 * which names it deterministically, attaches TASKS_SERVICE_ACCOUNT's OIDC token and counts
 * ALREADY_EXISTS as done. A job's notification has one name whatever its outcome and tier, so the
 * first decision wins. A failed enqueue throws {@link HandoffError}: the caller answers 503, which
 * Cloud Tasks does not count as an execution, and its redelivery runs the work again at the same
 * attempt.
 */
import { CodedError, messageOf } from '../errors.js';
import type { CreateTask, TaskDescription } from '../queues/create-task.js';
import { handoffTaskId, outcomeTaskId, type HandoffKind } from '../queues/names.js';
import type { WorkError } from '../work/types.js';
import { encodeNotification, type DecodedBody } from './codecs.js';
import type { Action } from './decide.js';
import { FORWARD_HEADERS, formatPath, type Delivery, type Hop } from './delivery.js';
import { queueIdOf, type Tier } from './tier.js';

/** The actions that create a task. */
export type Handoff = Extract<Action, { kind: 'forward' | 'notify' | 'dead-letter' }>;

/** What the push path knows when it hands off. */
export interface ApplyContext {
  delivery: Delivery;
  /** The raw push body, forwarded and dead-lettered unchanged. */
  body: Buffer;
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

/** The task a handoff created (or found). */
export interface HandoffResult {
  kind: HandoffKind;
  /** Full task name, when it was chosen deterministically. */
  task?: string;
  /** `exists` when an earlier delivery had already created it. */
  result: 'created' | 'exists';
}

/** A task could not be created; answer 503 so Cloud Tasks redelivers and the handoff is redone. */
export class HandoffError extends CodedError {
  /** The handoff that failed. */
  readonly kind: HandoffKind;

  constructor(kind: HandoffKind, queue: string, cause: unknown) {
    const detail = messageOf(cause);
    super(
      'HANDOFF_FAILED',
      `Could not create the ${kind} task in ${queue}: ${detail}. Answering 503 so Cloud Tasks redelivers and the handoff is retried; check the queue exists and TASKS_SERVICE_ACCOUNT may enqueue to it.`,
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
export function makeApplier(createTask: CreateTask, tier: Tier) {
  const { targets } = tier;

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

  function forward(ctx: ApplyContext): Promise<HandoffResult> {
    const next = targets.next;
    if (next === undefined) throw new HandoffTargetMissingError('PROBLEM_QUEUE/PROBLEM_SERVICE');
    return create(
      'forward',
      ctx,
      relay(ctx, next, { [FORWARD_HEADERS.tier]: String(ctx.tier + 1), [FORWARD_HEADERS.path]: formatPath(pathWithThisTier(tier, ctx)) }),
    );
  }

  function notify(ctx: ApplyContext, outcome: 'succeeded' | 'failed', error: WorkError | undefined, result: unknown): Promise<HandoffResult> {
    const queue = targets.notifierQueue;
    if (queue === undefined) throw new HandoffTargetMissingError('NOTIFIER_QUEUE');
    if (ctx.decoded === undefined) throw new HandoffTargetMissingError('a decoded job to notify about');
    const url = ctx.decoded.job.webhookUrl ?? targets.notifyUrl;
    if (url === undefined) throw new HandoffTargetMissingError('a webhook (the job names none and NOTIFY_URL is unset)');
    const from = origin(ctx);
    const encoded = encodeNotification(ctx.decoded, {
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
    return create(outcome === 'succeeded' ? 'notify-success' : 'notify-failure', ctx, {
      queue,
      url,
      body: encoded.body,
      headers: { 'Content-Type': encoded.contentType, 'X-Executor-Outcome': outcome },
    });
  }

  function deadLetter(ctx: ApplyContext, error: WorkError): Promise<HandoffResult> {
    const target = targets.deadLetter;
    if (target === undefined) throw new HandoffTargetMissingError('DEAD_LETTER_QUEUE');
    return create(
      'dead-letter',
      ctx,
      relay(ctx, target, {
        'X-Executor-Error-Type': headerSafe(error.type, 100),
        'X-Executor-Error': headerSafe(error.message),
        [FORWARD_HEADERS.tier]: String(ctx.tier),
      }),
    );
  }

  /** Carries out a handoff; throws {@link HandoffError} when its enqueue fails. */
  return async function apply(action: Handoff, ctx: ApplyContext): Promise<HandoffResult> {
    switch (action.kind) {
      case 'forward':
        return forward(ctx);
      case 'notify':
        return notify(ctx, action.outcome, action.error, action.result);
      case 'dead-letter':
        return deadLetter(ctx, action.error);
    }
  };
}

/** The function {@link makeApplier} returns. */
export type Apply = ReturnType<typeof makeApplier>;
