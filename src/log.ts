import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Pino levels mapped to Google Cloud Logging severities. */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Options for {@link makeLogger}. */
export interface LoggerConfig {
  /** Minimum level: trace | debug | info | warn | error | fatal | silent. */
  level?: string;
  /** Where lines go (tests pass a sink); stdout by default. */
  destination?: DestinationStream;
  /** Fields bound to every line, e.g. `{ component: 'emulator' }`. */
  base?: Record<string, unknown>;
}

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
 * A pino logger that writes Google Cloud Logging structured JSON: `severity` instead of a numeric
 * level, `message` instead of `msg`, and `time` as an ISO string, so Cloud Run's agent parses each
 * line into a proper log entry. Secrets and payloads are never passed to it by our code; the redact
 * list below is a second line of defence for headers that could carry credentials.
 */
export function makeLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    messageKey: 'message',
    base: config.base ?? null,
    timestamp: isoTimeCached,
    formatters: {
      level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
    },
    // Exact paths only: pino compiles them into per-key serialisers that cost nothing unless the key
    // is present, whereas a wildcard (`*.authorization`) makes every line walk every object.
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'err.config.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

export type { Logger };
