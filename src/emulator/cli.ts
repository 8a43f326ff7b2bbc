import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { loadLogFormat } from '../config.js';
import { chooseLogFormat, makeLogger } from '../log.js';
import { startEmulator, type EmulatorOptions } from './index.js';

const USAGE = `Usage: executor emulator [options]

Runs the Cloud Tasks emulator: the v2 API over gRPC and REST on one port, dispatching tasks
to their HTTP targets with Cloud Tasks' headers, retries, rate limits and OIDC tokens.

Options:
  --host HOST              interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)
  --port PORT              port for gRPC and REST (default 8123; 0 = random)
  --queues FILE            YAML queues file: queues created at startup
  --dedup-window SECONDS   how long a deleted task's name stays reserved (default 3600)
  --reset-names-on-purge   PurgeQueue also forgets reserved task names (handy in tests)
  --issuer URL             OIDC issuer of the tokens it signs (default http://HOST:PORT)
  --log-level LEVEL        trace | debug | info | warn | error | silent (default info)
  -h, --help               show this help
`;

/** Parsed command line of `executor emulator`. */
export interface EmulatorCliOptions extends EmulatorOptions {
  logLevel: string;
  help: boolean;
}

/** Parses the emulator's flags; throws a ConfigError listing every bad flag. */
export function parseEmulatorArgs(argv: string[]): EmulatorCliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        queues: { type: 'string' },
        'dedup-window': { type: 'string' },
        'reset-names-on-purge': { type: 'boolean' },
        issuer: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError('EMULATOR_ARGS_INVALID', [`${(err as Error).message} (see 'executor emulator --help')`], 'Invalid arguments');
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
  if (typeof values['dedup-window'] === 'string') {
    const s = Number(values['dedup-window']);
    if (!Number.isFinite(s) || s < 0) problems.push(`--dedup-window must be a non-negative number of seconds, got '${values['dedup-window']}'`);
    else out.dedupWindowMs = Math.round(s * 1000);
  }
  if (values['reset-names-on-purge'] === true) out.resetNamesOnPurge = true;
  if (typeof values.issuer === 'string') {
    try {
      new URL(values.issuer);
      out.issuer = values.issuer;
    } catch {
      problems.push(`--issuer must be an absolute URL, got '${values.issuer}'`);
    }
  }
  if (typeof values['log-level'] === 'string') {
    const level = values['log-level'];
    if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
      problems.push(`--log-level must be one of trace, debug, info, warn, error, silent; got '${level}'`);
    } else out.logLevel = level;
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
  const emulator = await startEmulator({ ...options, logger });
  // A wildcard address is not something a client can dial: show localhost instead.
  const dialHost = ['0.0.0.0', '::', '[::]'].includes(emulator.host) ? 'localhost' : emulator.host;
  const address = `${dialHost}:${emulator.port}`;
  process.stdout.write(
    [
      `Cloud Tasks emulator listening on ${emulator.address} (gRPC and REST)`,
      `  REST base URL: http://${address}/v2/`,
      `  OIDC issuer:   ${emulator.issuer}`,
      `  JWKS URL:      ${emulator.jwksUrl}`,
      `export CLOUD_TASKS_EMULATOR_HOST=${address}`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      logger.info({ signal }, 'shutting down');
      emulator.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while closing');
        resolve();
      });
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
