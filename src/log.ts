import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { stdoutDestination } from './log-destination.js';

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
  /** Where lines go (tests pass a sink); stdout by default, a turn's lines in one write (see log-destination.ts). */
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
  return pino(options, config.destination ?? stdoutDestination());
}

/** The levels a {@link LineWriter} writes at. */
export type LineLevel = 'info' | 'warn' | 'error';

/**
 * Writes one line whose fields are already serialised: `fields` is what pino would put between the
 * time (and a child's bindings) and the message — `,"key":value` pairs, each with its leading comma.
 */
export type LineWriter = (level: LineLevel, fields: string) => void;

/** pino's marker of a stream that wants each line's metadata (a multistream). */
const NEEDS_METADATA = Symbol.for('pino.metadata');

/**
 * A writer of pre-serialised lines with `message`, for a hot path that logs one record of a fixed
 * shape: it skips pino's generic serialiser (a walk over the object, a type switch and escaping per
 * key, redaction) but assembles the line from the logger's own pieces — its level prefix, time
 * function, child bindings, message key and line ending — so the line is byte for byte the one
 * `logger[level](fields, message)` writes (test/executor/log-format.test.ts holds it to that).
 * The caller checks `logger.isLevelEnabled(level)` and serialises values as pino would (numbers,
 * booleans, {@link jsonString} for strings, `JSON.stringify` for plain objects) and never passes
 * keys that are redacted or have serialisers (`err`). Undefined when the logger's output could
 * differ from that: a mixin, a log formatter, a stream-write hook, or a multistream.
 */
export function makeLineWriter(logger: Logger, message: string): LineWriter | undefined {
  const S = pino.symbols;
  const l = logger as unknown as Record<symbol, unknown>;
  const formatters = l[S.formattersSym] as { log?: unknown } | undefined;
  const hooks = l[S.hooksSym] as { streamWrite?: unknown } | undefined;
  const stream = l[S.streamSym] as ({ write(line: string): unknown } & Record<symbol, unknown>) | undefined;
  const time = l[S.timeSym];
  if (l[S.mixinSym] || formatters?.log || hooks?.streamWrite || stream === undefined || stream[NEEDS_METADATA] === true || typeof time !== 'function') return undefined;
  if (l[S.nestedKeySym]) return undefined;
  const tail = `,"${String(l[S.messageKeySym])}":${jsonString(message)}${String(l[S.endSym])}`;
  const values = logger.levels.values;
  return (level, fields) => {
    const prefix = (l[S.lsCacheSym] as Record<number, string>)[values[level]!]!;
    stream.write(prefix + (time as () => string).call(logger) + String(l[S.chindingsSym]) + fields + tail);
  };
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * A string as pino writes it in a line (its `asString` on Node < 25, `JSON.stringify` after):
 * quotes and backslashes escaped by hand, anything with a control character or longer than 100
 * characters through `JSON.stringify`.
 */
export function jsonString(str: string): string {
  if (NODE_MAJOR >= 25 || str.length > 100) return JSON.stringify(str);
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < str.length && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += `${str.slice(last, i)}\\`;
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : `"${result}"`;
}

export type { Logger };
