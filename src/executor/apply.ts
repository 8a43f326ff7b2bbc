/**
 * Carries out a decision: creates the one task it calls for (forward, notification or dead letter)
 * and says what to answer. Every task gets a deterministic name (so a repeated delivery finds
 * ALREADY_EXISTS and counts it as done) and, when configured, the OIDC token of
 * TASKS_SERVICE_ACCOUNT. A failed enqueue throws {@link HandoffError}: the caller answers 503 and
 * Cloud Tasks redelivers, which redoes exactly this handoff.
 */
import type { protos } from '@google-cloud/tasks';
import type { QueuePath } from '../config.js';
import { CodedError } from '../errors.js';
import { handoffTaskId, taskPath, type HandoffKind } from '../queues/names.js';
import type { WorkError } from '../work/types.js';
import { encodeNotification, type DecodedBody } from './codecs.js';
import type { Action } from './decide.js';
import { FORWARD_HEADERS, formatPath, type Delivery, type Hop } from './delivery.js';

/** gRPC status ALREADY_EXISTS: the deterministic name was created by an earlier delivery. */
const ALREADY_EXISTS = 6;

/** The part of CloudTasksClient the executor uses; the real client satisfies it. */
export interface TasksApi {
  createTask(request: protos.google.cloud.tasks.v2.ICreateTaskRequest, options?: { timeout?: number }): Promise<unknown>;
}

/** Where handoffs go, from the configuration. */
export interface HandoffTargets {
  /** The next tier. */
  next?: { queue: QueuePath; url: string };
  /** Queue of notifications. */
  notifierQueue?: QueuePath;
  /** Default webhook. */
  notifyUrl?: string;
  /** Queue and target of undecodable bodies. */
  deadLetter?: { queue: QueuePath; url: string };
  /** Service account whose OIDC token created tasks carry. */
  serviceAccount?: string;
  /** Deadline of one CreateTask call, in milliseconds. */
  createTimeoutMs: number;
}

/** What the push path knows when it applies an action. */
export interface ApplyContext {
  delivery: Delivery;
  /** The raw push body, forwarded and dead-lettered unchanged. */
  body: Buffer;
  /** The push's Content-Type, carried onto forwarded and dead-lettered tasks. */
  contentType?: string;
  /** The decoded body; absent for undecodable pushes. */
  decoded?: DecodedBody;
  /** This tier's number. */
  tier: number;
  /** This tier's queue id, for the path when the push did not name it. */
  queueId: string;
  /** This tier's budget. */
  maxAttempts: number;
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

/** What to answer, and which handoff led to it. */
export interface Applied {
  status: number;
  handoff?: HandoffResult;
}

/** A task could not be created; answer 503 so Cloud Tasks redelivers and the handoff is redone. */
export class HandoffError extends CodedError {
  /** The handoff that failed. */
  readonly kind: HandoffKind;

  constructor(kind: HandoffKind, queue: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
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
export function headerSafe(value: string, max = 1000): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

/** Attempts this tier spent on the work: the skipped redeliveries after the budget don't count. */
function spent(ctx: ApplyContext): number {
  return Math.min(ctx.delivery.attempt, ctx.maxAttempts);
}

/** Every tier passed, this one last. */
export function pathWithThisTier(ctx: ApplyContext): Hop[] {
  return [...ctx.delivery.path, { queue: ctx.delivery.queue ?? ctx.queueId, attempts: spent(ctx) }];
}

function origin(ctx: ApplyContext): string | undefined {
  if (ctx.delivery.origin !== undefined) return ctx.delivery.origin;
  const { queue, taskName } = ctx.delivery;
  return queue !== undefined && taskName !== undefined ? `${queue}/${taskName}` : undefined;
}

/** Makes the function that carries out actions against a Cloud Tasks API. */
export function makeApplier(tasks: TasksApi, targets: HandoffTargets) {
  async function create(
    kind: HandoffKind,
    queue: QueuePath,
    ctx: ApplyContext,
    httpRequest: protos.google.cloud.tasks.v2.IHttpRequest,
  ): Promise<HandoffResult> {
    const { queue: sourceQueue, taskName } = ctx.delivery;
    // Without the source's names (a push that did not come from Cloud Tasks) there is nothing to
    // derive a stable name from; the server names the task and duplicates are possible.
    const name = sourceQueue !== undefined && taskName !== undefined ? taskPath(queue, handoffTaskId(sourceQueue, taskName, kind)) : undefined;
    const oidcToken =
      targets.serviceAccount !== undefined ? { serviceAccountEmail: targets.serviceAccount, audience: httpRequest.url ?? undefined } : undefined;
    try {
      await tasks.createTask(
        {
          parent: queue,
          task: {
            ...(name !== undefined ? { name } : {}),
            httpRequest: { httpMethod: 'POST', ...httpRequest, headers: { ...ctx.traceHeaders, ...httpRequest.headers }, ...(oidcToken ? { oidcToken } : {}) },
          },
        },
        { timeout: targets.createTimeoutMs },
      );
      return { kind, ...(name !== undefined ? { task: name } : {}), result: 'created' };
    } catch (err) {
      if ((err as { code?: unknown }).code === ALREADY_EXISTS && name !== undefined) return { kind, task: name, result: 'exists' };
      throw new HandoffError(kind, queue, err);
    }
  }

  function forward(ctx: ApplyContext): Promise<HandoffResult> {
    const next = targets.next;
    if (next === undefined) throw new HandoffTargetMissingError('PROBLEM_QUEUE/PROBLEM_SERVICE');
    const from = origin(ctx);
    return create('forward', next.queue, ctx, {
      url: next.url,
      body: ctx.body,
      headers: {
        'Content-Type': ctx.contentType ?? 'application/octet-stream',
        [FORWARD_HEADERS.tier]: String(ctx.tier + 1),
        [FORWARD_HEADERS.path]: formatPath(pathWithThisTier(ctx)),
        ...(from !== undefined ? { [FORWARD_HEADERS.origin]: from } : {}),
      },
    });
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
      path: pathWithThisTier(ctx),
      task: {
        ...(ctx.delivery.queue !== undefined ? { queue: ctx.delivery.queue } : {}),
        ...(ctx.delivery.taskName !== undefined ? { name: ctx.delivery.taskName } : {}),
      },
      ...(from !== undefined ? { origin: from } : {}),
      ...(ctx.delivery.eta !== undefined ? { scheduledAt: ctx.delivery.eta } : {}),
      completedAt: ctx.now,
    });
    return create(outcome === 'succeeded' ? 'notify-success' : 'notify-failure', queue, ctx, {
      url,
      body: encoded.body,
      headers: { 'Content-Type': encoded.contentType, 'X-Executor-Outcome': outcome },
    });
  }

  function deadLetter(ctx: ApplyContext, error: WorkError): Promise<HandoffResult> {
    const target = targets.deadLetter;
    if (target === undefined) throw new HandoffTargetMissingError('DEAD_LETTER_QUEUE');
    const from = origin(ctx);
    return create('dead-letter', target.queue, ctx, {
      url: target.url,
      body: ctx.body,
      headers: {
        'Content-Type': ctx.contentType ?? 'application/octet-stream',
        'X-Executor-Error-Type': headerSafe(error.type, 100),
        'X-Executor-Error': headerSafe(error.message),
        [FORWARD_HEADERS.tier]: String(ctx.tier),
        ...(from !== undefined ? { [FORWARD_HEADERS.origin]: from } : {}),
      },
    });
  }

  /** Carries out an action; throws {@link HandoffError} when its enqueue fails. */
  return async function apply(action: Action, ctx: ApplyContext): Promise<Applied> {
    switch (action.kind) {
      case 'ack':
        return { status: 200 };
      case 'retry':
      case 'reject':
        return { status: action.status };
      case 'forward':
        return { status: 200, handoff: await forward(ctx) };
      case 'notify':
        return { status: 200, handoff: await notify(ctx, action.outcome, action.error, action.result) };
      case 'dead-letter':
        return { status: 200, handoff: await deadLetter(ctx, action.error) };
    }
  };
}

/** The function {@link makeApplier} returns. */
export type Apply = ReturnType<typeof makeApplier>;
