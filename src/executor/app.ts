/**
 * The executor's HTTP app: Fastify set up for pushes (raw bodies, the Cloud Tasks size limit, one
 * log line per delivery), the push route (src/executor/push.ts holds one push's lifecycle),
 * `/health` and `/metrics`, and the error handler.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ExecutorConfig } from '../config.js';
import { CodedError, PUSH_ERROR_STATUS, type PushErrorCode } from '../errors.js';
import { makeCreateTask, type TasksApi } from '../queues/create-task.js';
import { makePublish, type PublisherApi } from '../queues/publish.js';
import type { Runner } from '../work/types.js';
import { makeApplier } from './apply.js';
import { makePushVerifier, type PushVerifier } from './auth.js';
import { makePushGate, type PushGate } from './gate.js';
import { makeMetrics, type ExecutorMetrics } from './metrics.js';
import { makePushHandler, type PushAnswer } from './push.js';
import { makeTier } from './tier.js';

export type { PushAnswer } from './push.js';

/** The Cloud Tasks maximum task size; larger bodies get 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Longest a client may take to send a whole request (headers and body) before it is answered 408
 * and its connection closed. Cloud Tasks sends at most 1 MB from Google's network at once; only a
 * slow or hostile client comes near this. The run of the work is not part of it.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** What {@link buildApp} needs; everything with side effects is injectable. */
export interface AppDeps {
  config: ExecutorConfig;
  /** Runs the work. */
  runner: Runner;
  /** Creates tasks (the shared CloudTasksClient in production). */
  tasks: TasksApi;
  /** Publishes messages (the shared v1 PublisherClient); required when NOTIFY_TOPIC or NEXT_TOPIC is set. */
  publisher?: PublisherApi;
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
  /** Longest a client may take to send a request (default {@link REQUEST_TIMEOUT_MS}); tests shorten it. */
  requestTimeoutMs?: number;
  /** Deadline of one CreateTask or Publish call (default 10 s). */
  createTimeoutMs?: number;
  /**
   * Called once, with the short queue id of the first push that names one: how `executor serve`
   * learns its own queue for the drift check when EXECUTOR_QUEUE is not set.
   */
  onFirstQueue?: (queueId: string) => void;
  /**
   * Called once, with the full name of the first Pub/Sub push's subscription: how `executor serve`
   * checks its subscription's dead-letter policy when EXECUTOR_SUBSCRIPTION is not set.
   */
  onFirstSubscription?: (subscription: string) => void;
}

/** Builds the executor app. Call `listen` (or `inject` in tests) on the result. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config, logger } = deps;
  const gate = deps.gate ?? makePushGate();
  const metrics = deps.metrics ?? makeMetrics({ inFlight: () => gate.inFlight });
  const tier = makeTier(config);
  const createTask = makeCreateTask(deps.tasks, { timeoutMs: deps.createTimeoutMs ?? 10_000 });
  if ((config.notifyTopic !== undefined || config.nextTopic !== undefined) && deps.publisher === undefined) {
    throw new CodedError('PUBLISHER_MISSING', 'NOTIFY_TOPIC or NEXT_TOPIC is set but the app was given no Pub/Sub publisher: pass `publisher` to buildApp');
  }
  const publish = deps.publisher !== undefined ? makePublish(deps.publisher, { timeoutMs: deps.createTimeoutMs ?? 10_000 }) : undefined;
  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const admitPush = makePushHandler({
    tier,
    auth: config.auth,
    verifier: deps.verifier ?? makePushVerifier(config.auth),
    runner: deps.runner,
    apply: makeApplier(createTask, tier, publish),
    gate,
    metrics,
    logger,
    ...(config.logDeliveries !== undefined ? { logDeliveries: config.logDeliveries } : {}),
    clock: deps.clock ?? (() => new Date()),
    ...(deps.onFirstQueue !== undefined ? { onFirstQueue: deps.onFirstQueue } : {}),
    ...(deps.onFirstSubscription !== undefined ? { onFirstSubscription: deps.onFirstSubscription } : {}),
  });

  const app = Fastify({
    // Fastify's own logger off: with one it binds (and validates) a logger per request and puts
    // listeners on every response to log it, all for lines our one line per delivery replaces.
    // What Fastify would log that matters here, the errors, the error handler below logs itself.
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Slow clients (a body sent a byte at a time) get 408 instead of holding a connection forever.
    // Node checks pending requests every connectionsCheckingInterval (30 s by default, which would
    // double the limit); the headers' own limit cannot exceed the whole request's.
    requestTimeout,
    http: { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout) },
  });

  // Every content type arrives as raw bytes: the codec decides what the body is (the original
  // client labelled binary protobuf as application/json).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : PUSH_ERROR_STATUS.INTERNAL;
    // Fastify's own 413s (FST_ERR_CTP_BODY_TOO_LARGE, a too-long Content-Length) all mean one thing here.
    const registered: PushErrorCode | undefined = status === PUSH_ERROR_STATUS.BODY_TOO_LARGE ? 'BODY_TOO_LARGE' : undefined;
    const code = registered ?? err.code ?? 'INTERNAL';
    const message = registered === 'BODY_TOO_LARGE' ? `Body is larger than ${BODY_LIMIT_BYTES} bytes (the Cloud Tasks maximum)` : err.message;
    if (status >= 500) logger.error({ err, code }, 'push failed');
    else logger.warn({ code, status, message }, 'push refused');
    metrics.deliveries.inc({ outcome: registered === 'BODY_TOO_LARGE' ? 'too-large' : 'error', status: String(status) });
    void reply.code(status).send({ error: { code, message } } satisfies PushAnswer);
  });

  app.get('/health', async (_req, reply) => {
    if (gate.draining) return reply.code(PUSH_ERROR_STATUS.SHUTTING_DOWN).header('retry-after', tier.retryAfter).send({ status: 'draining' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  app.route({ method: 'POST', url: '/*', handler: admitPush });
  app.route({ method: 'POST', url: '/', handler: admitPush });

  return app;
}
