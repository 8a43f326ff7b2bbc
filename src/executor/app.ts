/**
 * The executor's HTTP app: one push route (POST on any path), `/health` and `/metrics`. The push
 * handler is the pipeline of DESIGN.md — authenticate, read the delivery, decode, run, decide,
 * apply — with each step in its own module; this file only wires them and answers.
 */
import { performance } from 'node:perf_hooks';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ExecutorConfig } from '../config.js';
import { shortName } from '../queues/names.js';
import type { RunContext, Runner, WorkError } from '../work/types.js';
import { HandoffError, makeApplier, type Applied, type ApplyContext, type TasksApi } from './apply.js';
import { makePushVerifier, requestAudiences, type PushVerifier } from './auth.js';
import { decodeBody, UndecodableBodyError, type DecodedBody } from './codecs.js';
import { decide, mustSkipWork, type Action, type DecideOutcome } from './decide.js';
import { readDelivery, type Delivery } from './delivery.js';
import { makePushGate, type PushGate } from './gate.js';
import { makeMetrics, recordHandoff, type ExecutorMetrics } from './metrics.js';
import { endDeliverySpan, startDeliverySpan, startHandoffSpan } from './spans.js';
import { traceFields, traceHeadersToCarry } from './trace.js';

/** The Cloud Tasks maximum task size; larger bodies get 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Seconds a refused push is told to wait (shutdown, failed handoff). */
const RETRY_AFTER_SECONDS = '10';

/** What {@link buildApp} needs; everything with side effects is injectable. */
export interface AppDeps {
  config: ExecutorConfig;
  /** Runs the work. */
  runner: Runner;
  /** Creates tasks (the shared CloudTasksClient in production). */
  tasks: TasksApi;
  /** Process logger (Cloud Logging format). */
  logger: Logger;
  /** Now; tests pin it. */
  clock?: () => Date;
  /** Inbound auth; built from `config.auth` when absent. */
  verifier?: PushVerifier;
  /** Shutdown gate; a fresh one when absent. */
  gate?: PushGate;
  /** Metrics; a fresh registry when absent. */
  metrics?: ExecutorMetrics;
  /** Deadline of one CreateTask call (default 10 s). */
  createTimeoutMs?: number;
  /**
   * Called once, with the short queue id of the first push that names one: how `executor serve`
   * learns its own queue for the drift check when EXECUTOR_QUEUE is not set.
   */
  onFirstQueue?: (queueId: string) => void;
}

/** The JSON body of every answer to a push. */
export interface PushAnswer {
  /** What happened to the work: success, retryable, permanent, ignore, skipped, undecodable. */
  outcome?: string;
  /** The action taken: ack, retry, notify, forward, dead-letter, reject. */
  action?: string;
  /** Attempt on this tier. */
  attempt?: number;
  /** The task created (or found) by the handoff. */
  handoff?: { kind: string; task?: string; result: string };
  /** Why the push failed or was refused. */
  error?: { code?: string; type?: string; message: string };
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

const ACKED: Applied = { status: 200 };
const SKIPPED: DecideOutcome = { kind: 'skipped' };

function outcomeLabel(outcome: DecideOutcome): string {
  return outcome.kind;
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
  readonly attempt: number;
  readonly retryCount: number;
  readonly executionCount: number;
  readonly queue?: string;
  readonly taskName?: string;
  readonly tier: number;
  readonly maxAttempts: number;
  readonly signal: AbortSignal;
  /** performance.now() when the push arrived. */
  readonly started: number;
  readonly delivery: Delivery;
  /** The child logger, once bound. */
  child: Logger | undefined;
  // Truly private (#): runners that pass their context on see only RunContext's facts.
  readonly #headers: FastifyRequest['headers'];
  readonly #base: Logger;
  readonly #project: string | undefined;

  constructor(
    started: number,
    headers: FastifyRequest['headers'],
    delivery: Delivery,
    tier: number,
    maxAttempts: number,
    signal: AbortSignal,
    base: Logger,
    project: string | undefined,
  ) {
    this.started = started;
    this.#headers = headers;
    this.delivery = delivery;
    this.tier = tier;
    this.maxAttempts = maxAttempts;
    this.signal = signal;
    this.#base = base;
    this.#project = project;
    this.attempt = delivery.attempt;
    this.retryCount = delivery.retryCount ?? 0;
    this.executionCount = delivery.executionCount ?? 0;
    if (delivery.queue !== undefined) this.queue = delivery.queue;
    if (delivery.taskName !== undefined) this.taskName = delivery.taskName;
  }

  /** The delivery's identifying fields: trace, tier, queue, task, attempt. */
  facts(): Record<string, unknown> {
    const fields: Record<string, unknown> = traceFields(this.#headers, this.#project);
    fields.tier = this.tier;
    if (this.delivery.queue !== undefined) fields.queue = this.delivery.queue;
    if (this.delivery.taskName !== undefined) fields.task = this.delivery.taskName;
    fields.attempt = this.delivery.attempt;
    return fields;
  }

  /** A logger bound to this delivery, made on first use. */
  get logger(): Logger {
    return (this.child ??= this.#base.child(this.facts()));
  }
}

/** Builds the executor app. Call `listen` (or `inject` in tests) on the result. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config, runner, logger } = deps;
  let onFirstQueue = deps.onFirstQueue;
  const clock = deps.clock ?? (() => new Date());
  const gate = deps.gate ?? makePushGate();
  const metrics = deps.metrics ?? makeMetrics({ inFlight: () => gate.inFlight });
  const verifier = deps.verifier ?? makePushVerifier(config.auth);
  const apply = makeApplier(deps.tasks, {
    ...(config.next !== undefined ? { next: config.next } : {}),
    ...(config.notifierQueue !== undefined ? { notifierQueue: config.notifierQueue } : {}),
    ...(config.notifyUrl !== undefined ? { notifyUrl: config.notifyUrl } : {}),
    ...(config.deadLetterQueue !== undefined && config.deadLetterUrl !== undefined
      ? { deadLetter: { queue: config.deadLetterQueue, url: config.deadLetterUrl } }
      : {}),
    ...(config.tasksServiceAccount !== undefined ? { serviceAccount: config.tasksServiceAccount } : {}),
    createTimeoutMs: deps.createTimeoutMs ?? 10_000,
  });
  const policy = {
    maxAttempts: config.maxAttempts,
    hasNext: config.next !== undefined,
    hasDeadLetter: config.deadLetterQueue !== undefined && config.deadLetterUrl !== undefined,
    hasNotifier: config.notifierQueue !== undefined,
    hasDefaultWebhook: config.notifyUrl !== undefined,
  };

  // Typed as Fastify's base logger so the app is a plain FastifyInstance for callers.
  const baseLogger: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance: baseLogger,
    // Our own line per delivery replaces Fastify's request/response lines.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify would bind a child logger (request id, level) to every request; only the rare error
    // paths use req.log, and their lines carry the facts they need.
    childLoggerFactory: (parent) => parent,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
  });

  // Every content type arrives as raw bytes: the codec decides what the body is (the original
  // client labelled binary protobuf as application/json).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const code = status === 413 ? 'BODY_TOO_LARGE' : (err.code ?? 'INTERNAL');
    const message = status === 413 ? `Body is larger than ${BODY_LIMIT_BYTES} bytes (the Cloud Tasks maximum)` : err.message;
    if (status >= 500) req.log.error({ err, code }, 'push failed');
    else req.log.warn({ code, status, message }, 'push refused');
    metrics.deliveries.inc({ outcome: status === 413 ? 'too-large' : 'error', status: String(status) });
    void reply.code(status).send({ error: { code, message } } satisfies PushAnswer);
  });

  app.get('/health', async (_req, reply) => {
    if (gate.draining) return reply.code(503).header('retry-after', RETRY_AFTER_SECONDS).send({ status: 'draining' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  // Metric children bound once per label set: the push path then skips prom-client's label
  // validation and object building for the common outcomes.
  const deliveryCounters = new Map<string, { inc(): void }>();
  const durationHistograms = new Map<string, { observe(value: number): void }>();
  const countAnswer = (outcome: string, status: number) => {
    const key = `${outcome} ${status}`;
    let counter = deliveryCounters.get(key);
    if (counter === undefined) deliveryCounters.set(key, (counter = metrics.deliveries.labels(outcome, String(status))));
    counter.inc();
  };
  const countDelivery = (outcome: string, status: number, seconds: number) => {
    countAnswer(outcome, status);
    let histogram = durationHistograms.get(outcome);
    if (histogram === undefined) durationHistograms.set(outcome, (histogram = metrics.duration.labels(outcome)));
    histogram.observe(seconds);
  };
  const fixedQueueId = config.executorQueue !== undefined ? shortName(config.executorQueue) : undefined;

  /**
   * Admission control, here rather than in an onRequest hook: a route without hooks takes Fastify's
   * fast path. Only pushes hold up shutdown; health checks and scrapes do not. The push counts
   * until its answer is handed to the socket, which every path of handlePush does before returning
   * (a thrown error is answered by the error handler in the same turn).
   */
  function admitPush(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (gate.draining) {
      countAnswer('draining', 503);
      void reply
        .code(503)
        .header('retry-after', RETRY_AFTER_SECONDS)
        .send({ error: { code: 'SHUTTING_DOWN', message: 'This instance is shutting down; Cloud Tasks will retry elsewhere' } } satisfies PushAnswer);
      return Promise.resolve();
    }
    gate.enter();
    // Not awaited here (one async frame less per push): the gate is left when the push settles.
    return handlePush(req, reply).finally(() => gate.leave());
  }

  /** Writes the delivery's one log line, counts it and sends the answer. */
  function finish(
    push: Push,
    reply: FastifyReply,
    status: number,
    outcome: string,
    answer: PushAnswer,
    extra?: Record<string, unknown>,
    level: 'info' | 'warn' | 'error' = 'info',
  ): void {
    const seconds = (performance.now() - push.started) / 1000;
    countDelivery(outcome, status, seconds);
    endDeliverySpan(push, status, outcome, answer.action);
    if (logger.isLevelEnabled(level)) {
      const { delivery } = push;
      // With a child already bound (the work logged), its bindings carry the delivery's facts.
      const line: Record<string, unknown> = push.child === undefined ? push.facts() : {};
      line.outcome = outcome;
      line.status = status;
      line.action = answer.action;
      line.durationMs = Math.round(seconds * 1000);
      line.retryCount = delivery.retryCount;
      line.executionCount = delivery.executionCount;
      line.maxAttempts = config.maxAttempts;
      if (extra !== undefined) Object.assign(line, extra);
      (push.child ?? logger)[level](line, 'delivery');
    }
    if (status === 503) void reply.header('retry-after', RETRY_AFTER_SECONDS);
    void reply.code(status).send(answer);
  }

  async function handlePush(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const headers = req.headers;
    const delivery: Delivery = readDelivery(headers);
    const push = new Push(performance.now(), headers, delivery, config.tier ?? delivery.tier ?? delivery.path.length + 1, config.maxAttempts, gate.signal, logger, config.project);
    const tier = push.tier;
    startDeliverySpan(push, headers, delivery, tier, config.maxAttempts);
    if (delivery.warnings.length > 0) push.logger.warn({ warnings: delivery.warnings }, 'ignored malformed delivery headers');

    // 1. Authenticate.
    if (!config.auth.disabled) {
      const audiences =
        config.auth.audience !== undefined ? [config.auth.audience] : requestAudiences(forwardedProto(req), headers.host ?? '', req.url);
      const auth = await verifier.verify(headers.authorization, audiences);
      if (!auth.ok) {
        metrics.authRejections.inc({ code: auth.code });
        if (auth.status === 401) void reply.header('www-authenticate', 'Bearer');
        finish(push, reply, auth.status, 'unauthorized', { error: { code: auth.code, message: auth.reason } }, { authCode: auth.code }, 'warn');
        return;
      }
    }

    // Only an authenticated push may tell the executor which queue is its own.
    if (onFirstQueue !== undefined && delivery.queue !== undefined) {
      const notify = onFirstQueue;
      onFirstQueue = undefined;
      notify(delivery.queue);
    }

    // 2. Decode.
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let decoded: DecodedBody | undefined;
    let outcome: DecideOutcome;
    try {
      decoded = decodeBody(body);
      outcome = SKIPPED;
    } catch (err) {
      if (!(err instanceof UndecodableBodyError)) throw err;
      outcome = { kind: 'undecodable', error: { type: 'UndecodableBody', message: err.message } };
    }

    // 3. Run, unless the budget is already spent (then only the handoff is redone).
    if (decoded !== undefined && !mustSkipWork(delivery.attempt, config.maxAttempts)) {
      try {
        outcome = await runner.run(decoded.job, push);
      } catch (err) {
        // Runners promise never to throw; if one does, the job is retried rather than lost.
        push.logger.error({ err }, 'runner threw instead of returning an outcome');
        outcome = { kind: 'retryable', error: { type: 'RunnerError', message: err instanceof Error ? err.message : String(err) } };
      }
    }

    // 4. Decide and apply.
    const action: Action = decide({ outcome, attempt: delivery.attempt, jobHasWebhook: decoded?.job.webhookUrl !== undefined, policy });
    const label = outcomeLabel(outcome);

    const error = errorOf(outcome);
    const base = { outcome: label, action: action.kind, attempt: delivery.attempt } satisfies PushAnswer;
    const errorFields = error !== undefined ? { errorType: error.type, errorMessage: error.message } : undefined;
    let applied: Applied;
    if (action.kind === 'ack') {
      applied = ACKED;
    } else if (action.kind === 'retry' || action.kind === 'reject') {
      applied = { status: action.status };
    } else {
      // Only a handoff needs its context (and the clock).
      const contentType = headers['content-type'];
      const ctx: ApplyContext = {
        delivery,
        body,
        ...(typeof contentType === 'string' ? { contentType } : {}),
        ...(decoded !== undefined ? { decoded } : {}),
        tier,
        queueId: delivery.queue ?? fixedQueueId ?? `tier-${tier}`,
        maxAttempts: config.maxAttempts,
        now: clock(),
      };
      const handoffStarted = performance.now();
      const span = startHandoffSpan(push, action.kind);
      ctx.traceHeaders = traceHeadersToCarry(headers, span.ctx);
      try {
        applied = await apply(action, ctx);
        span.end(applied.handoff);
        if (applied.handoff !== undefined) recordHandoff(metrics, applied.handoff.kind, applied.handoff.result, handoffStarted);
      } catch (err) {
        span.end(undefined, err);
        if (err instanceof HandoffError) {
          recordHandoff(metrics, err.kind, 'failed', handoffStarted);
          finish(push, reply, 503, label, { ...base, error: { code: err.code, message: err.message } }, { ...errorFields, handoff: { kind: err.kind, result: 'failed' }, err }, 'error');
          return;
        }
        throw err;
      }
    }

    const answer: PushAnswer = {
      ...base,
      ...(applied.handoff !== undefined ? { handoff: applied.handoff } : {}),
      ...(action.kind === 'retry' || action.kind === 'reject' ? { error: { type: action.error.type, message: action.error.message } } : {}),
    };
    const unnotified = action.kind === 'ack' ? action.unnotified : undefined;
    const level = action.kind === 'reject' || unnotified !== undefined ? 'error' : 'info';
    const extra =
      errorFields === undefined && applied.handoff === undefined && unnotified === undefined
        ? undefined
        : { ...errorFields, ...(applied.handoff !== undefined ? { handoff: applied.handoff } : {}), ...(unnotified !== undefined ? { unnotified } : {}) };
    finish(push, reply, applied.status, label, answer, extra, level);
  }

  app.route({ method: 'POST', url: '/*', handler: admitPush });
  app.route({ method: 'POST', url: '/', handler: admitPush });

  return app;
}
