import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

/** Pino levels mapped to Google Cloud Logging severities. */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** How log lines are written: Cloud Logging JSON, or pino-pretty's coloured lines for a person. */
export type LogFormat = 'json' | 'pretty';

/** The formats `LOG_FORMAT` accepts. */
export const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly LogFormat[];

/**
 * Picks the format: an explicit choice (`LOG_FORMAT`) wins; otherwise pretty on a terminal that is
 * not Cloud Run (which sets `K_SERVICE`; its log agent wants JSON even if a TTY were attached),
 * JSON everywhere else: containers, pipes, files.
 */
export function chooseLogFormat(explicit: LogFormat | undefined, where: { isTTY: boolean; onCloudRun: boolean }): LogFormat {
  if (explicit !== undefined) return explicit;
  return where.isTTY && !where.onCloudRun ? 'pretty' : 'json';
}

/** Options for {@link makeLogger}. */
export interface LoggerConfig {
  /** Minimum level: trace | debug | info | warn | error | fatal | silent. */
  level?: string;
  /** Where lines go (tests pass a sink); stdout by default. */
  destination?: DestinationStream;
  /** Fields bound to every line, e.g. `{ component: 'emulator' }`. */
  base?: Record<string, unknown>;
  /** Line format; JSON by default (callers resolve `LOG_FORMAT` and the terminal with {@link chooseLogFormat}). */
  format?: LogFormat;
}

/** pino-pretty's settings: local wall-clock time, no pid/hostname noise, our message key, one line per entry. */
const PRETTY = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', messageKey: 'message', singleLine: true } as const;

/**
 * pino's `isoTime`, but formatting the Date once per millisecond: a busy server writes many lines
 * within the same millisecond, and `toISOString` is a measurable part of each line's cost.
 */
let lastMs = -1;
let lastTime = '';
export function isoTimeCached(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * A pino logger. In JSON (the default) it writes Google Cloud Logging structured JSON: `severity`
 * instead of a numeric level, `message` instead of `msg`, and `time` as an ISO string, so Cloud
 * Run's agent parses each line into a proper log entry. Pretty goes through pino-pretty — as a
 * transport (a worker thread) to stdout, or as a stream into a given destination — and keeps pino's
 * numeric level so pino-pretty names it (INFO, WARN), rather than showing a `severity` field.
 *
 * The Cloud Logging fields are written here rather than with `@google-cloud/pino-logging-gcp-config`:
 * that package depends on `@google-cloud/logging` (and its gRPC client tree) to produce the same
 * three fields, and formats `time` per line, which our hot path avoids (see {@link isoTimeCached}).
 * Trace correlation, the one field it adds that we want, is bound per delivery by the executor.
 *
 * Secrets and payloads are never passed to it by our code; the redact list below is a second line
 * of defence for headers that could carry credentials.
 */
export function makeLogger(config: LoggerConfig = {}): Logger {
  const isPretty = config.format === 'pretty';
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    messageKey: 'message',
    base: config.base ?? null,
    timestamp: isPretty ? pino.stdTimeFunctions.epochTime : isoTimeCached,
    ...(isPretty ? {} : { formatters: { level: (label: string) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) } }),
    // Exact paths only: pino compiles them into per-key serialisers that cost nothing unless the key
    // is present, whereas a wildcard (`*.authorization`) makes every line walk every object.
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'err.config.headers.authorization'],
      censor: '[redacted]',
    },
  };
  if (isPretty) {
    if (config.destination !== undefined) return pino(options, pretty({ ...PRETTY, colorize: false, sync: true, destination: config.destination }));
    return pino({ ...options, transport: { target: 'pino-pretty', options: PRETTY } });
  }
  return config.destination ? pino(options, config.destination) : pino(options);
}

export type { Logger };
