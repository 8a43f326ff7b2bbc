/**
 * The Cloud Tasks emulator, in-process: `startEmulator()` listens with gRPC and REST on one port
 * and dispatches tasks over HTTP with production semantics.
 */
import { ConfigError } from '../errors.js';
import { makeLogger, type Logger } from '../log.js';
import { makeGrpcServer } from './api/grpc.js';
import { makeRestHandler } from './api/rest.js';
import { ApiError } from './api/status.js';
import { Pusher } from './dispatch.js';
import { makeEmulatorMetrics, withMetricsRoute } from './metrics.js';
import { Engine, type DroppedTask, type EngineStats } from './engine/engine.js';
import { OidcSigner } from './oidc.js';
import { loadQueuesFile, type QueuesFile, type ResolvedQueue } from './queues-file.js';
import { listenDual } from './server.js';

export type { QueuesFile, QueuesFileQueue } from './queues-file.js';
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
  /** OIDC issuer URL; default `http://${host}:${port}`. */
  issuer?: string;
  /** pino logger; default silent. */
  logger?: Logger;
}

/** A running emulator. */
export interface Emulator {
  readonly host: string;
  readonly port: number;
  /** 'host:port' — the value for CLOUD_TASKS_EMULATOR_HOST. */
  readonly address: string;
  /** 'http://host:port' — REST base and default issuer. */
  readonly url: string;
  /** OIDC `iss` of the tokens it signs. */
  readonly issuer: string;
  /** JWKS URL, for AUTH_JWKS_URL. */
  readonly jwksUrl: string;
  /** Resolves once no RUNNING queue holds a task and no dispatch is in flight (rejects after timeoutMs, default 30s). */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** Counters since start: tasks created, dispatch attempts, succeeded, failed attempts, dropped (gave up after retry limits), deleted. */
  stats(): EngineStats;
  /** Tasks that were given up (retry limits reached), with their last response — nothing vanishes silently. */
  droppedTasks(): DroppedTask[];
  close(): Promise<void>;
}

/** Starts an emulator; resolves once it listens and the queues of the queues file exist. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? makeLogger({ level: 'silent' });
  const dedupWindowMs = options.dedupWindowMs ?? 3_600_000;
  if (!Number.isFinite(dedupWindowMs) || dedupWindowMs < 0) {
    throw new ConfigError('EMULATOR_OPTIONS_INVALID', [`dedupWindowMs must be a non-negative number of milliseconds, got ${dedupWindowMs}`]);
  }
  // Validate the queues file before binding anything, so a typo fails fast and leaves no port open.
  const queues: ResolvedQueue[] = options.queues === undefined ? [] : loadQueuesFile(options.queues);

  const pusher = new Pusher();
  // The issuer depends on the port, known only after listening: the key is made now, the issuer set below.
  const signer = new OidcSigner();
  const metrics = makeEmulatorMetrics();
  const engine = new Engine({
    dedupWindowMs,
    resetNamesOnPurge: options.resetNamesOnPurge ?? false,
    signer,
    push: (req) => pusher.push(req),
    logger,
    events: metrics.events,
  });
  metrics.watchQueues(() => engine.queueSizes());
  for (const q of queues) {
    try {
      engine.createQueue(q.parent, q.input, true);
    } catch (err) {
      await pusher.close();
      if (err instanceof ApiError) {
        throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', [`${q.input.name}: ${err.message}`], 'Invalid queues file');
      }
      throw err;
    }
  }

  const grpcServer = makeGrpcServer(engine, logger);
  const rest = withMetricsRoute(metrics.registry, makeRestHandler({
    engine,
    signer,
    logger,
    inspect: () => ({ stats: engine.stats(), droppedTasks: engine.droppedTasks() }),
  }));
  let server;
  try {
    server = await listenDual({ host, port: options.port ?? 0, grpcServer, rest });
  } catch (err) {
    await pusher.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new ConfigError('EMULATOR_PORT_IN_USE', [`port ${options.port} on ${host} is already in use: stop the other process or pass another --port`]);
    }
    throw err;
  }
  const port = server.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  const issuer = options.issuer ?? url;
  const jwksUrl = `${url}/.well-known/jwks.json`;
  signer.setIssuer(issuer, jwksUrl);
  // debug: `executor emulator` prints its own banner, and one "listening" line is enough.
  logger.debug({ address: `${urlHost}:${port}`, queues: queues.length }, 'Cloud Tasks emulator listening');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    address: `${urlHost}:${port}`,
    url,
    issuer,
    jwksUrl,
    waitForIdle: (o) => engine.waitForIdle(o?.timeoutMs),
    stats: () => engine.stats(),
    droppedTasks: () => engine.droppedTasks(),
    close: () => {
      closing ??= (async () => {
        engine.close();
        await server.close();
        await pusher.close();
      })();
      return closing;
    },
  };
}
