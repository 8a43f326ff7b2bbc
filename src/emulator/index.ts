/**
 * The Cloud Tasks and Pub/Sub emulator, in-process: `startEmulator()` listens with gRPC and REST on
 * one port, dispatches tasks and pushes messages over HTTP with production semantics.
 */
import { ConfigError } from '../errors.js';
import { makeLogger, type Logger } from '../log.js';
import { makeGrpcServer } from './api/grpc.js';
import { makeRestHandler } from './api/rest.js';
import { makeDashboard, type ChainView } from './dashboard/index.js';
import { Pusher, pushRequest } from './dispatch.js';
import { ApiError } from './status.js';
import { Engine, type DroppedTask, type EngineStats, type QueueStats } from './engine/engine.js';
import type { ThrottlingMode } from './engine/throttle.js';
import { Faults, parseFaultSpec, pushUnderFaults, type FaultRuleInput } from './faults.js';
import { makeEmulatorMetrics, withMetricsRoute } from './metrics.js';
import { OidcSigner } from './oidc.js';
import { addPubSubServices } from './pubsub/api/grpc.js';
import { isPubSubPath, makePubSubRestHandler } from './pubsub/api/rest.js';
import { systemClock } from './pubsub/clock.js';
import { PubSubEngine, type PubSubStats } from './pubsub/engine.js';
import { loadPubSubDeclarations } from './pubsub/topics-file.js';
import { isHttpUrl, loadQueuesFile, type QueuesFile, type ResolvedQueue } from './queues-file.js';
import { listenDual } from './server.js';
import { openDataDir, type DataDir } from './data-dir.js';

export type { QueuesFile, QueuesFileQueue } from './queues-file.js';
export type { QueuesFileSubscription, QueuesFileTopic } from './pubsub/topics-file.js';
export type { PubSubStats } from './pubsub/engine.js';
export type { ChainTier, ChainView, NotificationView } from './dashboard/index.js';

/** Where App Engine tasks go by default: dev_appserver's usual port. */
const DEFAULT_APP_ENGINE_HOST = 'http://localhost:8080';

/** Production keeps a deleted queue's name from being created again for 7 days. */
const QUEUE_NAME_RESERVE_MS = 7 * 24 * 3600 * 1000;
export type { ActiveFault, FaultCounters, FaultRule, FaultRuleInput } from './faults.js';
export { Faults } from './faults.js';
export type { QueueStats } from './engine/engine.js';
export { DEFAULT_THROTTLE, type ThrottleParams, type ThrottlingMode } from './engine/throttle.js';
export type { Logger };

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 8123 for the CLI, 0 = random (tests). In-process default: 0. */
  port?: number;
  /** Path of a YAML queues file, or its parsed content. */
  queues?: string | QueuesFile;
  /** How long a deleted/finished task name stays reserved (ms); default 3_600_000. */
  dedupWindowMs?: number;
  /** PurgeQueue also forgets remembered names (for tests); default false. */
  resetNamesOnPurge?: boolean;
  /**
   * Lets a deleted queue's name be created again at once (for tests that delete and re-create
   * queues); default false: as in production, the name stays taken for 7 days.
   */
  allowQueueNameReuse?: boolean;
  /**
   * Where App Engine tasks are pushed (the local stand-in for the app: dev_appserver, or the
   * service itself), as an origin like `http://localhost:8080`; default that. A queue of the queues
   * file may name its own (`appEngineHost`).
   */
  appEngineHost?: string;
  /** OIDC issuer URL; default `http://${host}:${port}`. */
  issuer?: string;
  /** pino logger; default silent. */
  logger?: Logger;
  /** Fault rules active from the start (objects, or `--fault` specs such as `fail-create:count=2`). */
  faults?: ReadonlyArray<FaultRuleInput | string>;
  /** System throttling of queues without their own `throttling` (docs/emulator.md): 'model' (default) or 'off'. */
  throttling?: ThrottlingMode;
  /**
   * The URL of HTTP tasks created with an empty `url` — firebase-admin sends them so against an
   * emulator — unless their queue has its own (`defaultTarget` in the queues file). Without either,
   * such a task is refused with INVALID_ARGUMENT naming both.
   */
  defaultTarget?: string;
  /**
   * Directory that keeps queues, tasks and reserved task names across restarts (a write-ahead
   * log, see docs/emulator.md); created if missing. Unset: memory only.
   */
  dataDir?: string;
}

/** A running emulator. */
export interface Emulator {
  readonly host: string;
  readonly port: number;
  /** 'host:port' — the value for CLOUD_TASKS_EMULATOR_HOST and PUBSUB_EMULATOR_HOST. */
  readonly address: string;
  /** 'http://host:port' — REST base and default issuer. */
  readonly url: string;
  /** OIDC `iss` of the tokens it signs. */
  readonly issuer: string;
  /** JWKS URL, for AUTH_JWKS_URL. */
  readonly jwksUrl: string;
  /** The web dashboard (`GET /` from a browser serves it too). */
  readonly dashboardUrl: string;
  /** Shows the chain around the emulator on the dashboard: tiers, notifier, dead letters, notifications. */
  showChain(chain: ChainView | undefined): void;
  /** Resolves once no RUNNING queue holds a task and no dispatch is in flight (rejects after timeoutMs, default 30s). */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** Counters since start: tasks created, dispatch attempts, succeeded, failed attempts, dropped (gave up after retry limits), deleted. */
  stats(): EngineStats;
  /** Each queue's enforced rate (throttling model), recent error share, tasks and dispatches in flight. */
  queueStats(): QueueStats[];
  /** Tasks that were given up (retry limits reached), with their last response — nothing vanishes silently. */
  droppedTasks(): DroppedTask[];
  /** Pub/Sub counters since start: published, delivered, acked, nacked, expired, dead-lettered, pushes. */
  pubsubStats(): PubSubStats;
  /** Fault injection: add and clear rules at runtime (also served at `/emulator/faults`). */
  readonly faults: Faults;
  /** Sets (or clears) the URL of a queue's tasks that name none (full queue name), as a queues file's `defaultTarget`. */
  setDefaultTarget(queue: string, url: string | undefined): void;
  close(): Promise<void>;
}

/**
 * Starts an emulator; resolves once it listens and the queues of the queues file exist. (Long, in
 * one place: it is the wiring of every part — engines, API, dashboard, faults, metrics, server —
 * in the order they depend on each other, with the cleanup of what was started when a step fails.)
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? makeLogger({ level: 'silent' });
  const dedupWindowMs = options.dedupWindowMs ?? 3_600_000;
  if (!Number.isFinite(dedupWindowMs) || dedupWindowMs < 0) {
    throw new ConfigError('EMULATOR_OPTIONS_INVALID', [`dedupWindowMs must be a non-negative number of milliseconds, got ${dedupWindowMs}`]);
  }
  const appEngineHost = options.appEngineHost ?? DEFAULT_APP_ENGINE_HOST;
  if (!/^https?:\/\/[^/?#]+\/?$/.test(appEngineHost)) {
    throw new ConfigError('EMULATOR_OPTIONS_INVALID', [`appEngineHost must be an http(s) origin like http://localhost:8080, got '${appEngineHost}'`]);
  }
  if (options.defaultTarget !== undefined && !isHttpUrl(options.defaultTarget)) {
    throw new ConfigError('EMULATOR_OPTIONS_INVALID', [`defaultTarget must be an absolute http(s) URL like http://localhost:8081/, got '${options.defaultTarget}'`]);
  }
  // Validate the queues file before binding anything, so a typo fails fast and leaves no port open.
  const queues: ResolvedQueue[] = options.queues === undefined ? [] : loadQueuesFile(options.queues);
  const declared = options.queues === undefined ? { topics: [], subscriptions: [] } : loadPubSubDeclarations(options.queues);

  const faults = new Faults();
  for (const f of options.faults ?? []) faults.add(typeof f === 'string' ? parseFaultSpec(f) : f);

  const pusher = new Pusher();
  // The issuer depends on the port, known only after listening: the key is made now, the issuer set below.
  const signer = new OidcSigner();
  const metrics = makeEmulatorMetrics();
  const engine = new Engine({
    dedupWindowMs,
    resetNamesOnPurge: options.resetNamesOnPurge ?? false,
    queueNameReserveMs: options.allowQueueNameReuse === true ? 0 : QUEUE_NAME_RESERVE_MS,
    appEngineHost,
    push: (delivery) => pushUnderFaults(faults, pushRequest(delivery, signer), (r) => pusher.push(r)),
    logger,
    throttling: options.throttling ?? 'model',
    events: metrics.events,
    ...(options.defaultTarget !== undefined ? { defaultTarget: options.defaultTarget } : {}),
  });
  metrics.watchQueues(() => engine.queueSizes());
  const pubsub = new PubSubEngine({ clock: systemClock, signer, push: (req) => pusher.push(req), logger });
  let dataDir: DataDir | undefined;
  try {
    if (options.dataDir !== undefined) {
      dataDir = openDataDir(options.dataDir, engine, {
        resetNamesOnPurge: options.resetNamesOnPurge ?? false,
        dedupWindowMs,
        queueNameReserveMs: options.allowQueueNameReuse === true ? 0 : QUEUE_NAME_RESERVE_MS,
        now: Date.now,
      });
    }
  } catch (err) {
    await pusher.close();
    throw err;
  }
  const restored = new Set(engine.queueSummaries().map((s) => s.queue.name));
  for (const q of queues) {
    try {
      // A queue the data directory brought back keeps its kept state (paused, updated) over the file's.
      if (!restored.has(q.input.name!)) engine.createQueue(q.parent, q.input, true);
      if (q.throttling !== undefined) engine.setThrottling(q.input.name!, q.throttling);
      if (q.defaultTarget !== undefined) engine.setDefaultTarget(q.input.name!, q.defaultTarget);
    } catch (err) {
      dataDir?.close();
      await pusher.close();
      if (err instanceof ApiError) {
        throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', [`${q.input.name}: ${err.message}`], 'Invalid queues file');
      }
      throw err;
    }
  }

  for (const item of [...declared.topics.map((t) => () => pubsub.createTopic(t)), ...declared.subscriptions.map((sub) => () => pubsub.createSubscription(sub))]) {
    try {
      item();
    } catch (err) {
      dataDir?.close();
      await pusher.close();
      if (err instanceof ApiError) throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', [err.message], 'Invalid queues file');
      throw err;
    }
  }

  // The server that owns the sockets exists only after listening; the gRPC hook reaches it then.
  let dropPeer = (_peer: string): void => {};
  const grpcServer = makeGrpcServer(engine, logger, { faults, dropPeer: (peer) => dropPeer(peer) });
  addPubSubServices(grpcServer, pubsub, logger);
  const pubsubRest = makePubSubRestHandler(pubsub, logger);
  const dashboard = makeDashboard({ engine, logger, pubsub });
  const tasksRest = makeRestHandler({
    engine,
    signer,
    logger,
    faults,
    inspect: () => ({ stats: engine.stats(), queues: engine.queueStats(), droppedTasks: engine.droppedTasks(), pubsub: pubsub.stats() }),
    ui: (req, res, path) => dashboard.handle(req, res, path),
  });
  const rest: typeof tasksRest = withMetricsRoute(metrics.registry, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (isPubSubPath(path)) pubsubRest(req, res, safeDecode(path));
    else tasksRest(req, res);
  });
  let server;
  try {
    server = await listenDual({ host, port: options.port ?? 0, grpcServer, rest });
  } catch (err) {
    dashboard.close();
    dataDir?.close();
    await pusher.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new ConfigError('EMULATOR_PORT_IN_USE', [`port ${options.port} on ${host} is already in use: stop the other process or pass another --port`]);
    }
    throw err;
  }
  dropPeer = (peer) => server.dropPeer(peer);
  const port = server.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  const issuer = options.issuer ?? url;
  const jwksUrl = `${url}/.well-known/jwks.json`;
  signer.setIssuer(issuer, jwksUrl);
  // debug: `executor emulator` prints its own banner, and one "listening" line is enough.
  logger.debug({ address: `${urlHost}:${port}`, queues: queues.length }, 'Cloud Tasks and Pub/Sub emulator listening');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    address: `${urlHost}:${port}`,
    url,
    issuer,
    jwksUrl,
    dashboardUrl: `${url}/ui/`,
    showChain: (chain) => dashboard.setChain(chain),
    waitForIdle: (o) => engine.waitForIdle(o?.timeoutMs),
    stats: () => engine.stats(),
    queueStats: () => engine.queueStats(),
    droppedTasks: () => engine.droppedTasks(),
    pubsubStats: () => pubsub.stats(),
    faults,
    setDefaultTarget: (queue, url) => engine.setDefaultTarget(queue, url),
    close: () => {
      closing ??= (async () => {
        engine.close();
        dataDir?.close();
        dashboard.close();
        pubsub.close();
        await server.close();
        await pusher.close();
      })();
      return closing;
    },
  };
}

/** A URL path with percent-escapes decoded (topic ids may hold %); the raw path when it is malformed (the router then answers NOT_FOUND). */
function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
