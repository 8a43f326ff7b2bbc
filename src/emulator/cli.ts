import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { loadLogFormat } from '../config.js';
import { chooseLogFormat, makeLogger } from '../log.js';
import { describeArgsError } from '../suggest.js';
import { untilStopSignal } from '../signals.js';
import { parseFaultSpec, type FaultRule } from './faults.js';
import { startEmulator, type EmulatorOptions } from './index.js';
import { isHttpUrl } from './queues-file.js';

const USAGE = `Usage: executor emulator [options]

Runs the Cloud Tasks emulator: the v2 API over gRPC and REST on one port, dispatching tasks
to their HTTP targets with Cloud Tasks' headers, retries, rate limits and OIDC tokens. The same
port serves Pub/Sub v1 (topics, subscriptions, pull, StreamingPull, push with OIDC).

Options:
  --host HOST              interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)
  --port PORT              port for gRPC and REST (default 8123; 0 = random)
  --queues FILE            YAML queues file: queues, topics and subscriptions created at startup
  --data-dir DIR           keep queues, tasks and reserved task names in DIR across restarts
                           (even kill -9); default: memory only
  --dedup-window SECONDS   how long a deleted task's name stays reserved (default 3600)
  --reset-names-on-purge   PurgeQueue also forgets reserved task names (handy in tests)
  --allow-queue-name-reuse a deleted queue's name can be created again at once
                           (production refuses it for 7 days)
  --issuer URL             OIDC issuer of the tokens it signs (default http://HOST:PORT)
  --app-engine-host URL    where App Engine tasks are pushed (default http://localhost:8080)
  --default-target URL     where HTTP tasks with an empty url go (firebase-admin sends them so);
                           a queue's defaultTarget in the queues file wins (default: none, such
                           a task is refused with INVALID_ARGUMENT)
  --throttling MODE        model | off: lower a queue's enforced rate on 429/503 and high error
                           shares, as Cloud Tasks does (default model; see docs/emulator.md)
  --log-level LEVEL        trace | debug | info | warn | error | silent (default info)
  --fault SPEC             inject a fault (repeatable; for tests and chaos runs), e.g.
                             fail-create:code=UNAVAILABLE,count=3      fail the next 3 CreateTask calls
                             fail-create:phase=after,queue=notifier    create the task, then answer UNAVAILABLE
                             drop-create:count=1                       destroy the caller's connection mid-call
                             delay-dispatch:ms=2000                    hold every push 2 s
                             duplicate-dispatch                        deliver every push twice at once
                           switch them at runtime with GET/POST/DELETE /emulator/faults
  -h, --help               show this help
`;

/** The flags the usage documents, for "did you mean" on an unknown one. */
const FLAG_NAMES = [...USAGE.matchAll(/^\s+(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]!);

/** Parsed command line of `executor emulator`. */
export interface EmulatorCliOptions extends EmulatorOptions {
  logLevel: string;
  help: boolean;
}

/** Parses the emulator's flags; throws a ConfigError listing every bad flag. */
export function parseEmulatorArgs(argv: string[]): EmulatorCliOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        queues: { type: 'string' },
        'data-dir': { type: 'string' },
        'dedup-window': { type: 'string' },
        'reset-names-on-purge': { type: 'boolean' },
        'allow-queue-name-reuse': { type: 'boolean' },
        issuer: { type: 'string' },
        'app-engine-host': { type: 'string' },
        'default-target': { type: 'string' },
        throttling: { type: 'string' },
        'log-level': { type: 'string' },
        fault: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError('EMULATOR_ARGS_INVALID', [`${describeArgsError(err, FLAG_NAMES)} (see 'executor emulator --help')`], 'Invalid arguments');
  }
  const problems: string[] = [];
  const out: EmulatorCliOptions = { logLevel: 'info', help: values.help === true, port: 8123 };
  if (typeof values.host === 'string') out.host = values.host;
  if (typeof values.port === 'string') {
    const p = Number(values.port);
    if (!/^\d+$/.test(values.port) || p > 65535) problems.push(`--port must be an integer between 0 and 65535, got '${values.port}'`);
    else out.port = p;
  }
  if (typeof values.queues === 'string') out.queues = values.queues;
  if (typeof values['data-dir'] === 'string') {
    if (values['data-dir'] === '') problems.push("--data-dir needs a directory, got ''");
    else out.dataDir = values['data-dir'];
  }
  if (typeof values['dedup-window'] === 'string') {
    const s = Number(values['dedup-window']);
    if (!Number.isFinite(s) || s < 0) problems.push(`--dedup-window must be a non-negative number of seconds, got '${values['dedup-window']}'`);
    else out.dedupWindowMs = Math.round(s * 1000);
  }
  if (values['reset-names-on-purge'] === true) out.resetNamesOnPurge = true;
  if (values['allow-queue-name-reuse'] === true) out.allowQueueNameReuse = true;
  if (typeof values.issuer === 'string') {
    try {
      new URL(values.issuer);
      out.issuer = values.issuer;
    } catch {
      problems.push(`--issuer must be an absolute URL, got '${values.issuer}'`);
    }
  }
  if (typeof values['app-engine-host'] === 'string') {
    const v = values['app-engine-host'];
    if (!/^https?:\/\/[^/?#]+\/?$/.test(v)) problems.push(`--app-engine-host must be an http(s) origin like http://localhost:8080, got '${v}'`);
    else out.appEngineHost = v;
  }
  if (typeof values['default-target'] === 'string') {
    const v = values['default-target'];
    if (!isHttpUrl(v)) problems.push(`--default-target must be an absolute http(s) URL like http://localhost:8081/, got '${v}'`);
    else out.defaultTarget = v;
  }
  if (typeof values.throttling === 'string') {
    if (values.throttling === 'model' || values.throttling === 'off') out.throttling = values.throttling;
    else problems.push(`--throttling must be 'model' or 'off', got '${values.throttling}'`);
  }
  if (typeof values['log-level'] === 'string') {
    const level = values['log-level'];
    if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
      problems.push(`--log-level must be one of trace, debug, info, warn, error, silent; got '${level}'`);
    } else out.logLevel = level;
  }
  if (Array.isArray(values.fault)) {
    const faults: FaultRule[] = [];
    out.faults = faults;
    for (const spec of values.fault) {
      try {
        faults.push(parseFaultSpec(spec));
      } catch (err) {
        problems.push(...(err instanceof ConfigError ? err.problems : [String(err)]));
      }
    }
  }
  if (problems.length > 0) throw new ConfigError('EMULATOR_ARGS_INVALID', problems, 'Invalid arguments');
  return out;
}

/** `executor emulator`: runs until SIGTERM or SIGINT, then closes cleanly. */
export async function runEmulatorCli(argv: string[]): Promise<void> {
  const options = parseEmulatorArgs(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { logFormat, onCloudRun } = loadLogFormat();
  const format = chooseLogFormat(logFormat, { isTTY: process.stdout.isTTY === true, onCloudRun });
  const logger = makeLogger({ level: options.logLevel, base: { component: 'emulator' }, format });
  const stop = untilStopSignal({ logger });
  const emulator = await startEmulator({ ...options, logger }).catch((err: unknown) => {
    stop.done();
    throw err;
  });
  // A wildcard address is not something a client can dial: show localhost instead.
  const dialHost = ['0.0.0.0', '::', '[::]'].includes(emulator.host) ? 'localhost' : emulator.host;
  const address = `${dialHost}:${emulator.port}`;
  process.stdout.write(
    [
      `Cloud Tasks and Pub/Sub emulator listening on ${emulator.address} (gRPC and REST)`,
      `  REST base URL: http://${address}/v2/ (Cloud Tasks), http://${address}/v1/ (Pub/Sub)`,
      `  OIDC issuer:   ${emulator.issuer}`,
      `  JWKS URL:      ${emulator.jwksUrl}`,
      `  Dashboard:     http://${address}/ui/`,
      ...(options.dataDir !== undefined ? [`  Data dir:      ${options.dataDir} (state kept across restarts)`] : []),
      `export CLOUD_TASKS_EMULATOR_HOST=${address}`,
      `export PUBSUB_EMULATOR_HOST=${address}`,
      '',
    ].join('\n'),
  );
  const signal = await stop.stopped;
  logger.info({ signal }, 'shutting down');
  await emulator.close().catch((err: unknown) => logger.error({ err }, 'error while closing'));
  stop.done();
}
