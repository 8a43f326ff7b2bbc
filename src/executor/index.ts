/**
 * Starting an executor tier in-process: `executor serve` uses this, and so does the local stack,
 * which runs several tiers in one process (each with its own app, metrics and gate).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { ExecutorConfig } from '../config.js';
import { makeLogger } from '../log.js';
import { makeTasksClient } from '../queues/tasks-client.js';
import { makePublisherClient } from '../queues/pubsub-client.js';
import type { PublisherApi } from '../queues/publish.js';
import { makeRunner } from '../work/index.js';
import type { Runner } from '../work/types.js';
import type { TasksApi } from '../queues/create-task.js';
import { buildApp } from './app.js';
import { makePushGate } from './gate.js';
import { makeMetrics, type ExecutorMetrics } from './metrics.js';
import { answerAbandoned } from './push.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from './tier.js';

/**
 * Past the grace period, how long aborted work gets to answer before its pushes are answered 503,
 * and how long closing the server may then wait for connections (a client still sending a body)
 * before they are closed. Both short: Cloud Run sends SIGKILL 10 s after SIGTERM.
 */
export const STRAGGLER_MS = 250;
export const CLOSE_CONNECTIONS_MS = 500;

export { buildApp, BODY_LIMIT_BYTES, type AppDeps, type PushAnswer } from './app.js';
export { makePushGate, type PushGate } from './gate.js';
export { makeMetrics, type ExecutorMetrics } from './metrics.js';
export type { TasksApi } from '../queues/create-task.js';
export { FORWARD_HEADERS, CLOUD_TASKS_HEADERS, readDelivery, type Delivery, type Hop } from './delivery.js';
export { decodeBody, encodeNotification, type DecodedBody, type EnvelopeNotification, type Envelope } from './codecs.js';
export { RETRY_STATUS } from './decide.js';

/** Options of {@link startExecutor}; anything left out is built from the configuration. */
export interface StartOptions {
  /** Logger; a Cloud Logging pino logger at `config.logLevel` by default. */
  logger?: Logger;
  /** Cloud Tasks API; the process's shared client (emulator-aware) by default. */
  tasksClient?: TasksApi;
  /** Pub/Sub Publisher; the process's shared client (emulator-aware) by default, when a topic is configured. */
  publisher?: PublisherApi;
  /** The work; `makeRunner(config.worker)` by default (and then closed on `close()`). */
  runner?: Runner;
  /** Now; tests pin it. */
  clock?: () => Date;
  /** Called once with the queue id of the first authenticated push that names one. */
  onFirstQueue?: (queueId: string) => void;
  /** Called once with the subscription of the first authenticated Pub/Sub push. */
  onFirstSubscription?: (subscription: string) => void;
  /** Longest a client may take to send a request (default 30 s); tests shorten it. */
  requestTimeoutMs?: number;
}

/** A running executor tier. */
export interface RunningExecutor {
  /** Base URL it listens on (loopback form when bound to all interfaces). */
  url: string;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** The Fastify app. */
  app: FastifyInstance;
  /** Its metrics (the registry `/metrics` serves), for in-process readers such as the local stack. */
  metrics: ExecutorMetrics;
  /**
   * Graceful stop: refuse new pushes (503 + Retry-After), let in-flight ones finish within
   * `config.shutdownGraceMs`, then close the server and the runner it created. Bounded whatever
   * the work or the clients do: about `shutdownGraceMs` + {@link STRAGGLER_MS} + {@link CLOSE_CONNECTIONS_MS}.
   */
  close(): Promise<void>;
}

/** Starts an executor tier and resolves once it listens. */
export async function startExecutor(config: ExecutorConfig, options: StartOptions = {}): Promise<RunningExecutor> {
  const logger = options.logger ?? makeLogger({ level: config.logLevel });
  const tasks = options.tasksClient ?? makeTasksClient(config.emulatorHost !== undefined ? { emulatorHost: config.emulatorHost } : {});
  const wantsPublisher = config.notifyTopic !== undefined || config.nextTopic !== undefined;
  const publisher = options.publisher ?? (wantsPublisher ? makePublisherClient(config.pubsubEmulatorHost) : undefined);
  const ownRunner = options.runner === undefined;
  const runner =
    options.runner ??
    (await makeRunner(config.worker, { timeoutMs: config.workerTimeoutMs, maxOutputBytes: config.workerMaxOutputBytes, logger }));
  const gate = makePushGate();
  const metrics = makeMetrics({ inFlight: () => gate.inFlight });
  const app = buildApp({
    metrics,
    config,
    runner,
    tasks,
    ...(publisher !== undefined ? { publisher } : {}),
    logger,
    gate,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.onFirstQueue !== undefined ? { onFirstQueue: options.onFirstQueue } : {}),
    ...(options.onFirstSubscription !== undefined ? { onFirstSubscription: options.onFirstSubscription } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  try {
    // Fastify's logger is off (see buildApp): `executor serve` logs the one line that matters.
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    if (ownRunner) await runner.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    metrics,
    close() {
      closing ??= (async () => {
        const finished = await gate.drain(config.shutdownGraceMs);
        if (!finished) {
          logger.warn({ inFlight: gate.inFlight }, 'shutdown grace period ended with pushes in flight; aborting them');
          // Work that ignores the abort still gets its push answered (503), never a reset.
          if (!(await gate.idle(STRAGGLER_MS))) gate.abandon((reply) => answerAbandoned(reply as FastifyReply, String(config.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)));
        }
        const closed = app.close();
        // A connection still sending a request (or never finishing one) must not hold the exit.
        const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_CONNECTIONS_MS);
        await closed;
        clearTimeout(force);
        if (ownRunner) await runner.close();
      })();
      return closing;
    },
  };
}
