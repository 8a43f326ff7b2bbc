/**
 * One push's lifecycle, the pipeline of DESIGN.md: admit (shutdown gate), authenticate, read the
 * delivery, decode, run, decide, hand off, answer — each step in its own module; this file only
 * sequences them and writes the delivery's one log line. Nothing a caller sent is logged before
 * the push is authenticated.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuthConfig, LogDeliveries } from '../config.js';
import { PUSH_ERROR_STATUS, messageOf } from '../errors.js';
import { jsonString, makeLineWriter, type LineLevel } from '../log.js';
import type { PubSubFacts, RunContext, Runner, WorkError } from '../work/types.js';
import { HandoffError, type Apply, type ApplyContext, type Handoff, type HandoffResult } from './apply.js';
import { requestAudiences, socketAudiences, type AuthRejection, type AuthSuccess, type PushVerifier } from './auth.js';
import { decodeBody, UndecodableBodyError, type DecodedBody } from './codecs.js';
import { decide, type Action, type DecideOutcome } from './decide.js';
import { readDelivery, readPubSubDelivery, type Delivery } from './delivery.js';
import { unwrapPubSub } from './pubsub-envelope.js';
import { deliveryKey, makeUnfinishedHandoffs, type UnfinishedHandoffs } from './unfinished-handoffs.js';
import type { PushGate } from './gate.js';
import { recordHandoff, type ExecutorMetrics } from './metrics.js';
import { endDeliverySpan, startDeliverySpan, startHandoffSpan } from './spans.js';
import { tierNumberOf, type Tier } from './tier.js';
import { traceFields, traceHeadersToCarry, traceJson, traceJsonPrefix } from './trace.js';

/**
 * Answers a push whose work outlived the grace period (and ignored the abort): 503 + Retry-After
 * and `Connection: close` rather than a reset connection. Cloud Tasks does not count a 503 as an
 * execution, so the attempt is not spent; the redelivery runs the work again.
 */
export function answerAbandoned(reply: FastifyReply, retryAfter: string): void {
  if (reply.sent) return;
  void reply
    .code(PUSH_ERROR_STATUS.SHUTTING_DOWN)
    .header('retry-after', retryAfter)
    .header('connection', 'close')
    .send({ error: { code: 'SHUTTING_DOWN', message: 'This instance stopped before the work finished; Cloud Tasks will retry elsewhere' } } satisfies PushAnswer);
}

/** The JSON body of every answer to a push. */
export interface PushAnswer {
  /** What happened to the work: success, retryable, permanent, ignore, undecodable. */
  outcome?: string;
  /** The action taken: ack, retry, notify, forward, dead-letter, reject. */
  action?: string;
  /** Attempt on this tier. */
  attempt?: number;
  /** The task created (or found) by the handoff, and the message it published. */
  handoff?: { kind: string; task?: string; result: string; message?: { topic: string; messageId: string; eventId?: string } };
  /** Why the push failed or was refused. */
  error?: { code?: string; type?: string; message: string };
  /** The work did not run again: this instance remembered its outcome from the delivery whose handoff failed. */
  remembered?: true;
}

/** What the push lifecycle needs; built once per app. */
export interface PushDeps {
  /** This tier's constants. */
  tier: Tier;
  /** Inbound auth configuration. */
  auth: AuthConfig;
  /** Verifies the OIDC token. */
  verifier: PushVerifier;
  /** Runs the work. */
  runner: Runner;
  /** Carries out handoffs. */
  apply: Apply;
  /** Shutdown gate. */
  gate: PushGate;
  /** Metrics. */
  metrics: ExecutorMetrics;
  /** Process logger. */
  logger: Logger;
  /** LOG_DELIVERIES: which deliveries get a line (default all). */
  logDeliveries?: LogDeliveries;
  /** Now. */
  clock: () => Date;
  /** Called once with the queue id of the first authenticated push that names one. */
  onFirstQueue?: (queueId: string) => void;
  /** Called once with the subscription of the first authenticated Pub/Sub push. */
  onFirstSubscription?: (subscription: string) => void;
  /** Outcomes whose handoff failed, so their redelivery redoes only the handoff (default: a fresh store). */
  unfinished?: UnfinishedHandoffs;
}

/**
 * The scheme the pusher used. Cloud Run terminates TLS and says so in X-Forwarded-Proto. Only the
 * scheme is taken from forwarded headers: the host comes from `Host` itself, because trusting
 * X-Forwarded-Host would let a caller replay a token minted for another service.
 */
function forwardedProto(req: FastifyRequest): string {
  const raw = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' || first === 'http' ? first : 'http';
}

/** An unexpected error, by code or class name only: its message may quote the job. */
function internalReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'non-Error thrown';
}

/**
 * Whether a delivery gets its line under LOG_DELIVERIES: always with `all`; with `failures`, every
 * delivery but one whose work succeeded and that needed no handoff (an info-level `success` acked
 * as it is). Failures, handoffs, refusals and drops (`ignore`) keep their line; metrics count all.
 */
export function logsDelivery(mode: LogDeliveries, level: LineLevel, outcome: string, action: string | undefined): boolean {
  return mode === 'all' || level !== 'info' || outcome !== 'success' || action !== 'ack';
}

/**
 * A delivery line's extra fields as pino writes them, or undefined when one needs pino itself (an
 * `err`, which has a serialiser). Strings go through jsonString, plain objects through JSON.stringify,
 * exactly as pino's generic path.
 */
function extraJson(extra: Record<string, unknown>): string | undefined {
  let json = '';
  for (const key in extra) {
    const value = extra[key];
    if (value === undefined) continue;
    if (key === 'err') return undefined;
    const text =
      typeof value === 'string' ? jsonString(value) : typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'null') : typeof value === 'boolean' ? String(value) : JSON.stringify(value);
    json += `,${jsonString(key)}:${text}`;
  }
  return json;
}

/** The Content-Type of a Pub/Sub message's data, forwarded as a task body: what the codecs decoded it as. */
function dataContentType(decoded: DecodedBody | undefined): string {
  if (decoded === undefined) return 'application/octet-stream';
  return decoded.job.format === 'proto-binary' ? 'application/x-protobuf' : 'application/json';
}

/**
 * What a push carried: `raw` as received, `body` the job's bytes (`message.data` of a Pub/Sub
 * envelope, else raw itself), and for a Pub/Sub envelope that could not be read, why.
 */
interface Received {
  raw: Buffer;
  body: Buffer;
  pubsub: boolean;
  malformed?: string;
}

function errorOf(outcome: DecideOutcome): WorkError | undefined {
  return outcome.kind === 'retryable' || outcome.kind === 'permanent' || outcome.kind === 'undecodable' ? outcome.error : undefined;
}

/**
 * One push in flight: what its log line and its run need. It is the runner's context itself (one
 * object per push, no per-push closures), and binds a child logger only when something logs
 * through it — most deliveries log nothing but their one line.
 */
class Push implements RunContext {
  // Not readonly: a Pub/Sub push's facts are known only once its envelope is read (after auth).
  attempt: number;
  readonly retryCount: number;
  readonly executionCount: number;
  queue?: string;
  taskName?: string;
  tier: number;
  pubsub?: PubSubFacts;
  readonly maxAttempts: number;
  readonly signal: AbortSignal;
  /** performance.now() when the push arrived. */
  readonly started: number;
  delivery: Delivery;
  /** The child logger, once bound. */
  child: Logger | undefined;
  /** False until the push is authenticated: until then its headers are not logged. */
  trusted = false;
  /** The outcome came from {@link UnfinishedHandoffs}: the work did not run on this delivery. */
  remembered = false;
  // Truly private (#): runners that pass their context on see only RunContext's facts.
  readonly #headers: FastifyRequest['headers'];
  readonly #base: Logger;
  readonly #project: string | undefined;
  readonly #tier: Tier;

  constructor(started: number, headers: FastifyRequest['headers'], delivery: Delivery, tier: Tier, signal: AbortSignal, base: Logger) {
    this.started = started;
    this.#headers = headers;
    this.delivery = delivery;
    this.tier = tierNumberOf(tier, delivery);
    this.maxAttempts = tier.maxAttempts;
    this.signal = signal;
    this.#base = base;
    this.#project = tier.project;
    this.#tier = tier;
    this.attempt = delivery.attempt;
    this.retryCount = delivery.retryCount ?? 0;
    this.executionCount = delivery.executionCount ?? 0;
    if (delivery.queue !== undefined) this.queue = delivery.queue;
    if (delivery.taskName !== undefined) this.taskName = delivery.taskName;
  }

  /** Takes the delivery a Pub/Sub envelope described in place of the one read from the headers. */
  adopt(delivery: Delivery): void {
    this.delivery = delivery;
    this.attempt = delivery.attempt;
    this.tier = tierNumberOf(this.#tier, delivery);
    if (delivery.queue !== undefined) this.queue = delivery.queue;
    else delete this.queue;
    if (delivery.taskName !== undefined) this.taskName = delivery.taskName;
    else delete this.taskName;
    if (delivery.pubsub !== undefined) this.pubsub = delivery.pubsub;
  }

  /** The delivery's identifying fields: trace, tier, queue, task, attempt (only tier until trusted). */
  facts(): Record<string, unknown> {
    if (!this.trusted) return { tier: this.tier };
    const fields: Record<string, unknown> = traceFields(this.#headers, this.#project);
    fields.tier = this.tier;
    if (this.delivery.queue !== undefined) fields.queue = this.delivery.queue;
    if (this.delivery.taskName !== undefined) fields.task = this.delivery.taskName;
    if (this.delivery.pubsub !== undefined) fields.subscription = this.delivery.pubsub.subscription;
    fields.attempt = this.delivery.attempt;
    return fields;
  }

  /** {@link facts} as pino writes them in a line (`,"key":value` each); `tracePrefix` from traceJsonPrefix. */
  factsJson(tracePrefix: string): string {
    if (!this.trusted) return `,"tier":${this.tier}`;
    // Queue and task ids passed readDelivery's SAFE_ID check: nothing in them needs escaping.
    let json = `${traceJson(this.#headers, tracePrefix)},"tier":${this.tier}`;
    if (this.delivery.queue !== undefined) json += `,"queue":"${this.delivery.queue}"`;
    if (this.delivery.taskName !== undefined) json += `,"task":"${this.delivery.taskName}"`;
    // A subscription name comes from the envelope, unchecked: escaped like any string.
    if (this.delivery.pubsub !== undefined) json += `,"subscription":${jsonString(this.delivery.pubsub.subscription)}`;
    return `${json},"attempt":${this.delivery.attempt}`;
  }

  /** A logger bound to this delivery, made on first use (after authentication). */
  get logger(): Logger {
    return (this.child ??= this.#base.child(this.facts()));
  }
}

/**
 * Makes the push route's handler. (Long because it is a closure: its steps — admit, authenticate,
 * run, finish — share this app's metric children and the first-queue callback; each is short.)
 */
export function makePushHandler(deps: PushDeps): (req: FastifyRequest, reply: FastifyReply) => void {
  const { tier, auth: authConfig, verifier, runner, apply, gate, metrics, logger, clock } = deps;
  const logDeliveries = deps.logDeliveries ?? 'all';
  const unfinished = deps.unfinished ?? makeUnfinishedHandoffs();
  let onFirstQueue = deps.onFirstQueue;
  let onFirstSubscription = deps.onFirstSubscription;
  let warnedUncounted = false;
  // The delivery line, hand-serialised (see makeLineWriter); undefined when the logger needs pino's own path.
  const writeLine = makeLineWriter(logger, 'delivery');
  const tracePrefix = traceJsonPrefix(tier.project);

  // Metric children bound once per label set: the push path then skips prom-client's label
  // validation and object building for the common outcomes.
  // By outcome, then status: two lookups and no key string built per push.
  const deliveryCounters = new Map<string, Map<number, { inc(): void }>>();
  const countAnswer = (outcome: string, status: number) => {
    let byStatus = deliveryCounters.get(outcome);
    if (byStatus === undefined) deliveryCounters.set(outcome, (byStatus = new Map<number, { inc(): void }>()));
    let counter = byStatus.get(status);
    if (counter === undefined) byStatus.set(status, (counter = metrics.deliveries.labels(outcome, String(status))));
    counter.inc();
  };
  const durationHistograms = new Map<string, { observe(value: number): void }>();
  const countDelivery = (outcome: string, status: number, seconds: number) => {
    countAnswer(outcome, status);
    let histogram = durationHistograms.get(outcome);
    if (histogram === undefined) durationHistograms.set(outcome, (histogram = metrics.duration.labels(outcome)));
    histogram.observe(seconds);
  };

  /** Writes the delivery's one log line, counts it and sends the answer. */
  function finish(
    push: Push,
    reply: FastifyReply,
    status: number,
    outcome: string,
    answer: PushAnswer,
    extra?: Record<string, unknown>,
    level: LineLevel = 'info',
  ): void {
    const seconds = (performance.now() - push.started) / 1000;
    countDelivery(outcome, status, seconds);
    if (push.remembered) {
      answer.remembered = true;
      extra = { ...extra, remembered: true };
    }
    endDeliverySpan(push, status, outcome, answer.action);
    if (logsDelivery(logDeliveries, level, outcome, answer.action) && logger.isLevelEnabled(level)) {
      const durationMs = Math.round(seconds * 1000);
      const extraText = extra === undefined ? '' : extraJson(extra);
      if (writeLine !== undefined && push.child === undefined && extraText !== undefined) {
        writeLine(level, deliveryJson(push, outcome, status, answer.action, durationMs) + extraText);
      } else {
        const { delivery } = push;
        // With a child already bound (the work logged), its bindings carry the delivery's facts.
        const line: Record<string, unknown> = push.child === undefined ? push.facts() : {};
        line.outcome = outcome;
        line.status = status;
        line.action = answer.action;
        line.durationMs = durationMs;
        if (push.trusted) {
          line.retryCount = delivery.retryCount;
          line.executionCount = delivery.executionCount;
        }
        line.maxAttempts = tier.maxAttempts;
        if (extra !== undefined) Object.assign(line, extra);
        (push.child ?? logger)[level](line, 'delivery');
      }
    }
    // Answered already: the grace period ended first and the push got 503 (see answerAbandoned).
    if (reply.sent) return;
    if (status === 503) void reply.header('retry-after', tier.retryAfter);
    // Draining: no next request on this connection, so none can be cut off when the server closes.
    if (gate.draining) void reply.header('connection', 'close');
    void reply.code(status).send(answer);
  }

  /** The delivery line's own fields, in the order of the generic path above (outcome and action are codes: nothing to escape). */
  function deliveryJson(push: Push, outcome: string, status: number, action: string | undefined, durationMs: number): string {
    let json = `${push.factsJson(tracePrefix)},"outcome":"${outcome}","status":${status}`;
    if (action !== undefined) json += `,"action":"${action}"`;
    json += `,"durationMs":${durationMs}`;
    if (push.trusted) {
      const { retryCount, executionCount } = push.delivery;
      if (retryCount !== undefined) json += `,"retryCount":${retryCount}`;
      if (executionCount !== undefined) json += `,"executionCount":${executionCount}`;
    }
    return `${json},"maxAttempts":${tier.maxAttempts}`;
  }

  // The audiences of the last push, by what they are built from: pushes to one service keep
  // arriving at the same URL over the same kind of connection, so they are built once, not per push.
  let audienceMemo: { a: string | undefined; b: string | number | undefined; url: string; audiences: readonly string[] } | undefined;
  const fixedAudience = authConfig.disabled || authConfig.audience === undefined ? undefined : [authConfig.audience];

  /** The audiences this push's token may name (see requestAudiences and socketAudiences). */
  function audiencesOf(req: FastifyRequest): readonly string[] {
    if (fixedAudience !== undefined) return fixedAudience;
    const byHost = !authConfig.disabled && authConfig.hostAudience === true;
    const a = byHost ? forwardedProto(req) : req.socket.localAddress;
    const b = byHost ? (req.headers.host ?? '') : req.socket.localPort;
    const memo = audienceMemo;
    if (memo !== undefined && memo.a === a && memo.b === b && memo.url === req.url) return memo.audiences;
    const audiences = byHost ? requestAudiences(a!, b as string, req.url) : socketAudiences(a, b as number | undefined, req.url);
    audienceMemo = { a, b, url: req.url, audiences };
    return audiences;
  }

  /** The push's verdict on its token: undefined when auth is off (nothing to check). */
  function verify(req: FastifyRequest): ReturnType<PushVerifier['verify']> | undefined {
    if (authConfig.disabled) return undefined;
    return verifier.verify(req.headers.authorization, audiencesOf(req));
  }

  /** Refuses a push its token did not admit. */
  function refuse(push: Push, reply: FastifyReply, auth: AuthRejection): void {
    metrics.authRejections.inc({ code: auth.code });
    if (auth.status === 401) void reply.header('www-authenticate', 'Bearer');
    finish(push, reply, auth.status, 'unauthorized', { error: { code: auth.code, message: auth.reason } }, { authCode: auth.code }, 'warn');
  }

  /**
   * Runs the work: the outcome itself when the runner finished synchronously, else a promise of it.
   * A redelivery after a failed handoff skips it only when this instance remembers the outcome
   * (see {@link recalled}); nothing else may decide without running, or work that never ran would
   * be reported.
   */
  function run(push: Push, decoded: DecodedBody): DecideOutcome | Promise<DecideOutcome> {
    try {
      const outcome = runner.run(decoded.job, push);
      return isThenable(outcome) ? Promise.resolve(outcome).catch((err: unknown) => runnerThrew(push, err)) : outcome;
    } catch (err) {
      return runnerThrew(push, err);
    }
  }

  /** Runners promise never to throw; if one does, the job is retried rather than lost. */
  function runnerThrew(push: Push, err: unknown): DecideOutcome {
    push.logger.error({ err }, 'runner threw instead of returning an outcome');
    return { kind: 'retryable', error: { type: 'RunnerError', message: messageOf(err) } };
  }

  /**
   * Reads a Pub/Sub envelope, when the body is one: the push then describes the message (attempt =
   * deliveryAttempt) and the job is `message.data`. A malformed envelope is reported, to be treated
   * as an undecodable body. Only called once the push is authenticated.
   */
  function unwrap(push: Push, raw: Buffer): Received {
    const unwrapped = unwrapPubSub(raw);
    if (unwrapped.kind === 'none') return { raw, body: raw, pubsub: false };
    if (unwrapped.kind === 'malformed') {
      if (unwrapped.subscription !== undefined) firstSubscription(unwrapped.subscription);
      return { raw, body: raw, pubsub: true, malformed: unwrapped.reason };
    }
    const delivery = readPubSubDelivery(unwrapped.facts);
    push.adopt(delivery);
    firstSubscription(unwrapped.facts.subscription);
    if (unwrapped.facts.deliveryAttempt === undefined && !warnedUncounted) {
      warnedUncounted = true;
      push.logger.warn(
        { code: 'PUBSUB_ATTEMPTS_UNCOUNTED', subscription: unwrapped.facts.subscription, maxAttempts: tier.maxAttempts },
        'Pub/Sub push without deliveryAttempt: its subscription has no dead-letter policy, so every delivery counts as attempt 1 and the MAX_ATTEMPTS budget cannot be counted (a failing job is retried until the message expires). Give the subscription a dead-letter policy with maxDeliveryAttempts greater than MAX_ATTEMPTS',
      );
    }
    if (delivery.warnings.length > 0) push.logger.warn({ warnings: delivery.warnings }, 'ignored malformed x-executor-* attributes');
    return { raw, body: unwrapped.data, pubsub: true };
  }

  /** The outcome of this delivery's earlier run whose handoff failed, when this instance remembers it. */
  function recalled(push: Push, body: Buffer): DecideOutcome | undefined {
    // Nothing to look up (and no key to build) unless a handoff failed recently.
    if (unfinished.size === 0) return undefined;
    const key = deliveryKey(push.delivery);
    const outcome = key === undefined ? undefined : unfinished.recall(key, body);
    if (outcome !== undefined) push.remembered = true;
    return outcome;
  }

  function firstSubscription(subscription: string): void {
    if (onFirstSubscription === undefined) return;
    const notify = onFirstSubscription;
    onFirstSubscription = undefined;
    notify(subscription);
  }

  /**
   * One push, from its headers to its answer. Synchronous as long as each step is (auth off or a
   * verdict at hand, a synchronous handler, no handoff): only a step that returns a promise makes
   * the rest wait for it, so a quick push costs no promise and no microtask.
   */
  function handlePush(req: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    const headers = req.headers;
    const delivery: Delivery = readDelivery(headers);
    const push = new Push(performance.now(), headers, delivery, tier, gate.signal, logger);
    startDeliverySpan(push, headers, delivery, push.tier, tier.maxAttempts);

    // 1. Authenticate.
    const verdict = verify(req);
    if (isThenable(verdict)) return verdict.then((auth) => admitted(req, reply, push, auth));
    return admitted(req, reply, push, verdict);
  }

  /** 2. Unwrap a Pub/Sub envelope, decode and run, once the push is authenticated (or refuse it). */
  function admitted(req: FastifyRequest, reply: FastifyReply, push: Push, auth: AuthSuccess | AuthRejection | undefined): void | Promise<void> {
    if (auth !== undefined && !auth.ok) return refuse(push, reply, auth);
    push.trusted = true;
    if (push.delivery.warnings.length > 0) push.logger.warn({ warnings: push.delivery.warnings }, 'ignored malformed delivery headers');

    const received = unwrap(push, Buffer.isBuffer(req.body) ? req.body : EMPTY_BODY);
    // Only an authenticated Cloud Tasks push may tell the executor which queue is its own.
    if (onFirstQueue !== undefined && !received.pubsub && push.delivery.queue !== undefined) {
      const notify = onFirstQueue;
      onFirstQueue = undefined;
      notify(push.delivery.queue);
    }

    if (received.malformed !== undefined) {
      return decided(push, reply, req.headers, received, undefined, { kind: 'undecodable', error: { type: 'MalformedPushEnvelope', message: received.malformed } });
    }
    let decoded: DecodedBody;
    try {
      decoded = decodeBody(received.body);
    } catch (err) {
      if (!(err instanceof UndecodableBodyError)) throw err;
      return decided(push, reply, req.headers, received, undefined, { kind: 'undecodable', error: { type: 'UndecodableBody', message: err.message } });
    }
    const remembered = recalled(push, received.body);
    if (remembered !== undefined) return decided(push, reply, req.headers, received, decoded, remembered);
    const outcome = run(push, decoded);
    if (isThenable(outcome)) return outcome.then((o) => decided(push, reply, req.headers, received, decoded, o));
    return decided(push, reply, req.headers, received, decoded, outcome);
  }

  /** 3. Decide, and answer — at once, or once the handoff the decision calls for is done. */
  function decided(push: Push, reply: FastifyReply, headers: FastifyRequest['headers'], received: Received, decoded: DecodedBody | undefined, outcome: DecideOutcome): void | Promise<void> {
    const { delivery } = push;
    const action: Action = decide({ outcome, attempt: delivery.attempt, jobHasWebhook: decoded?.job.webhookUrl !== undefined, policy: tier.policy });
    if (action.kind === 'ack') return answer(push, reply, 200, action, outcome.kind, errorOf(outcome), undefined);
    if (action.kind === 'retry' || action.kind === 'reject') return answer(push, reply, action.status, action, outcome.kind, errorOf(outcome), undefined);
    return handOff(push, reply, headers, received, decoded, action, outcome);
  }

  /** Carries out a handoff (forward, notification, dead letter), then answers. */
  async function handOff(push: Push, reply: FastifyReply, headers: FastifyRequest['headers'], received: Received, decoded: DecodedBody | undefined, first: Handoff, outcome: DecideOutcome): Promise<void> {
    const { delivery } = push;
    let action: Action = first;
    let label: string = outcome.kind;
    let error = errorOf(outcome);
    // Only a handoff needs its context (and the clock). A Pub/Sub message's data has no
    // Content-Type of its own: it is named after what the codecs found.
    const { raw, body } = received;
    const contentType = received.pubsub && received.malformed === undefined ? dataContentType(decoded) : headers['content-type'];
    const ctx: ApplyContext = {
      delivery,
      body,
      ...(body !== raw ? { received: raw } : {}),
      ...(typeof contentType === 'string' ? { contentType } : {}),
      ...(decoded !== undefined ? { decoded } : {}),
      tier: push.tier,
      now: clock(),
    };
    let result = await tryApply(push, headers, first, ctx);
    if ('unexpected' in result) {
      // Deterministic for this push (a bug, or a job the encoders cannot carry): answering 5xx
      // would loop forever, since Cloud Tasks does not count 5xx as executions. Park it the way
      // an undecodable body is parked: dead letter (the raw body kept), else 400.
      push.logger.error({ err: result.unexpected }, 'push could not be handed off; parking it instead of answering 5xx');
      error = { type: 'InternalError', message: `The push could not be handed off (${internalReason(result.unexpected)}); it was not retried, to avoid a loop` };
      label = 'internal';
      action = decide({ outcome: { kind: 'undecodable', error }, attempt: delivery.attempt, jobHasWebhook: false, policy: tier.policy });
      result = action.kind === 'dead-letter' ? await tryApply(push, headers, action, ctx) : { unexpected: result.unexpected };
      if ('unexpected' in result) action = { kind: 'reject', status: 400, error };
    }
    if ('failed' in result) {
      // The work ran (or was remembered): its redelivery to this instance need only redo the handoff.
      const key = decoded !== undefined ? deliveryKey(delivery) : undefined;
      if (key !== undefined) unfinished.remember(key, body, outcome);
      const err = result.failed;
      const failure: PushAnswer = { outcome: label, action: action.kind, attempt: delivery.attempt, error: { code: err.code, message: err.message } };
      const errorFields = error !== undefined ? { errorType: error.type, errorMessage: error.message } : undefined;
      finish(push, reply, PUSH_ERROR_STATUS.HANDOFF_FAILED, label, failure, { ...errorFields, handoff: { kind: err.kind, result: 'failed' }, err }, 'error');
      return;
    }
    if (unfinished.size > 0) {
      const key = deliveryKey(delivery);
      if (key !== undefined) unfinished.forget(key);
    }
    answer(push, reply, action.kind === 'reject' ? action.status : 200, action, label, error, 'handoff' in result ? result.handoff : undefined);
  }

  /** Answers a decided push: its JSON answer, and the facts its line carries beyond the delivery's own. */
  function answer(push: Push, reply: FastifyReply, status: number, action: Action, label: string, error: WorkError | undefined, handoff: HandoffResult | undefined): void {
    const body: PushAnswer = { outcome: label, action: action.kind, attempt: push.delivery.attempt };
    if (handoff !== undefined) body.handoff = handoff;
    if (action.kind === 'retry' || action.kind === 'reject') body.error = { type: action.error.type, message: action.error.message };
    const unnotified = action.kind === 'ack' ? action.unnotified : undefined;
    const level = action.kind === 'reject' || unnotified !== undefined || label === 'internal' ? 'error' : 'info';
    const errorFields = error !== undefined ? { errorType: error.type, errorMessage: error.message } : undefined;
    const extra =
      errorFields === undefined && handoff === undefined && unnotified === undefined
        ? undefined
        : { ...errorFields, ...(handoff !== undefined ? { handoff } : {}), ...(unnotified !== undefined ? { unnotified } : {}) };
    finish(push, reply, status, label, body, extra, level);
  }

  /** Applies a handoff; a failed enqueue and an unexpected error are told apart, never thrown. */
  async function tryApply(push: Push, headers: FastifyRequest['headers'], action: Handoff, ctx: ApplyContext): Promise<{ handoff: HandoffResult } | { failed: HandoffError } | { unexpected: unknown }> {
    const started = performance.now();
    const span = startHandoffSpan(push, action.kind);
    ctx.traceHeaders = traceHeadersToCarry(headers, span.ctx);
    try {
      const handoff = await apply(action, ctx);
      span.end(handoff);
      recordHandoff(metrics, handoff.kind, handoff.result, started);
      return { handoff };
    } catch (err) {
      span.end(undefined, err);
      if (!(err instanceof HandoffError)) return { unexpected: err };
      recordHandoff(metrics, err.kind, 'failed', started);
      return { failed: err };
    }
  }

  /**
   * Admission control, here rather than in an onRequest hook: a route without hooks takes Fastify's
   * fast path. Only pushes hold up shutdown; health checks and scrapes do not. The push counts
   * until its answer is handed to the socket, which every path of handlePush does before it returns
   * or settles. Nothing is returned to Fastify (no promise for it to wrap): an error is answered
   * here through the error handler, as Fastify would answer a rejected handler.
   */
  return function admitPush(req: FastifyRequest, reply: FastifyReply): void {
    if (gate.draining) {
      countAnswer('draining', PUSH_ERROR_STATUS.SHUTTING_DOWN);
      void reply
        .code(PUSH_ERROR_STATUS.SHUTTING_DOWN)
        .header('retry-after', tier.retryAfter)
        .header('connection', 'close')
        .send({ error: { code: 'SHUTTING_DOWN', message: 'This instance is shutting down; Cloud Tasks will retry elsewhere' } } satisfies PushAnswer);
      return;
    }
    gate.enter(reply);
    let pending: void | Promise<void>;
    try {
      pending = handlePush(req, reply);
    } catch (err) {
      gate.leave(reply);
      void reply.send(err);
      return;
    }
    if (pending === undefined) {
      gate.leave(reply);
      return;
    }
    pending.then(
      () => gate.leave(reply),
      (err: unknown) => {
        gate.leave(reply);
        void reply.send(err);
      },
    );
  };
}

/** The body of a push that carried none (Fastify leaves req.body undefined). */
const EMPTY_BODY = Buffer.alloc(0);

function isThenable<T>(value: T | PromiseLike<T> | undefined): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
