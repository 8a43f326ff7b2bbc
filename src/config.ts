/**
 * The one place the executor's environment is read and validated. Everything else receives a typed
 * {@link ExecutorConfig}; nothing else touches `process.env` for executor settings.
 *
 * A bad value stops startup with one message that names every offending variable.
 */
import { z } from 'zod';
import { ConfigError, formatIssues } from './errors.js';
import { LOG_FORMATS, type LogFormat } from './log.js';
import { resolveQueuePath, type QueuePath } from './queues/paths.js';
import { resolvePubSubPath, type SubscriptionPath, type TopicPath } from './queues/topic-paths.js';
import { booleanText, integerText } from './text-values.js';

export type { QueuePath } from './queues/paths.js';
export type { SubscriptionPath, TopicPath } from './queues/topic-paths.js';

/** Every environment variable the executor reads, with its meaning (used by docs and infra checks). */
export const CONFIG_VARIABLES = {
  PORT: 'TCP port to listen on (Cloud Run sets it).',
  HOST: 'Interface to bind; 0.0.0.0 in containers.',
  MAX_ATTEMPTS: "This tier's attempt budget; the queue's max_attempts must be greater (or -1).",
  TIER: 'Number of this tier in the chain (1 = first); forwarded tasks carry it onwards.',
  GOOGLE_CLOUD_PROJECT: 'Project of the queues given by short name.',
  TASKS_LOCATION: 'Location of the queues given by short name (default: NOTIFIER_LOCATION).',
  NOTIFIER_QUEUE: 'Queue that carries notifications to webhooks (short id or full path).',
  NOTIFIER_LOCATION: 'Location of NOTIFIER_QUEUE when it is a short id.',
  NOTIFY_URL: 'Webhook for notifications of jobs that name none.',
  PROBLEM_QUEUE: 'Next tier\'s queue (short id or full path); unset on the last tier.',
  PROBLEM_SERVICE: "Next tier's URL (the target of forwarded tasks); set together with PROBLEM_QUEUE.",
  NOTIFY_TOPIC:
    'Pub/Sub topic (short id or projects/P/topics/T) every terminal outcome is published to; without NOTIFIER_QUEUE the topic is the only notification.',
  NEXT_TOPIC: "Next tier's Pub/Sub topic (short id or full name): forward spent budgets there instead of PROBLEM_QUEUE.",
  EXECUTOR_SUBSCRIPTION:
    "This tier's own Pub/Sub push subscription, for the startup check of its dead-letter policy (short id or full name).",
  PUBSUB_EMULATOR_HOST: 'host:port of a Pub/Sub emulator (default: CLOUD_TASKS_EMULATOR_HOST, whose emulator serves both).',
  DEAD_LETTER_QUEUE: 'Queue that receives undecodable bodies (short id or full path).',
  DEAD_LETTER_URL: 'Target URL of dead-letter tasks; required with DEAD_LETTER_QUEUE (keep that queue paused to hold them for inspection).',
  EXECUTOR_QUEUE: 'This tier\'s own queue, for the startup drift check (short id or full path).',
  TASKS_SERVICE_ACCOUNT: 'Service account whose OIDC token is attached to every task this executor creates.',
  CLOUD_TASKS_EMULATOR_HOST: 'host:port of a Cloud Tasks emulator (plaintext gRPC, no Google credentials).',
  AUTH_AUDIENCE: "Expected OIDC audience (default on Cloud Run: the request's URL, as Cloud Tasks sets it; elsewhere: the address the connection arrived at).",
  AUTH_ALLOWED_EMAILS: 'Comma-separated service accounts allowed to push (default: TASKS_SERVICE_ACCOUNT).',
  AUTH_ISSUER: 'Expected token issuer, or a comma-separated list (default: https://accounts.google.com).',
  AUTH_JWKS_URL: "JWKS URL of the issuer's keys (default: Google's certificates).",
  AUTH_DISABLED: 'true to accept unauthenticated pushes (local use only).',
  WORKER_MODULE: 'Path of an ES module exporting the handler, or the built-in `demo`.',
  WORKER_URL: 'URL of an HTTP worker that receives each job as a POST.',
  WORKER_COMMAND: 'Command run per job, job on stdin: a JSON array of argv, or words split on spaces.',
  WORKER_TIMEOUT_SECONDS: 'Time limit for one run of the work (default 300).',
  WORKER_MAX_OUTPUT_BYTES: "Cap on a command's captured stdout and an HTTP worker's response body (default 65536).",
  SHUTDOWN_GRACE_SECONDS: 'On SIGTERM, how long in-flight work may finish (default 8, under Cloud Run\'s 10).',
  RETRY_AFTER_SECONDS: 'The Retry-After of a 503 (a handoff that could not be enqueued, shutdown): how long Cloud Tasks is asked to wait (default 10).',
  LOG_LEVEL: 'trace | debug | info | warn | error | fatal | silent (default info).',
  LOG_FORMAT: 'json | pretty: default pretty on a terminal outside Cloud Run, Cloud Logging JSON otherwise.',
  LOG_DELIVERIES: 'all | failures: `failures` writes no line for a successful delivery (failures, handoffs and refusals are always logged; metrics always count). Default all.',
} as const;

/** Which deliveries get a log line: every one, or all but the plain successes (`LOG_DELIVERIES`). */
export type LogDeliveries = 'all' | 'failures';

/** The values `LOG_DELIVERIES` accepts. */
export const LOG_DELIVERIES = ['all', 'failures'] as const satisfies readonly LogDeliveries[];

/** Which unit of work runs per delivery. */
export type WorkerConfig =
  | { kind: 'module'; module: string }
  | { kind: 'http'; url: string }
  | { kind: 'command'; argv: readonly string[] };

/** Inbound (push) authentication. */
export type AuthConfig =
  | { disabled: true }
  | {
      disabled: false;
      /** Expected `aud`; undefined means "the URL the request was sent to" (see {@link hostAudience}). */
      audience?: string;
      /**
       * With no `audience`: true on Cloud Run (K_SERVICE set), whose routing by Host makes the Host
       * header this service's own, so the request URL is built from it; false elsewhere, where Host
       * is whatever the caller wrote, so only the address the connection arrived at is used.
       */
      hostAudience?: boolean;
      /** Service account emails allowed to push. Never empty. */
      allowedEmails: readonly string[];
      /** Expected `iss` values. */
      issuers: readonly string[];
      /** Where to fetch signing keys; undefined means Google's public certificates. */
      jwksUrl?: string;
    };

/** Validated executor configuration. */
export interface ExecutorConfig {
  /** TCP port. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** This tier's attempt budget (≥ 1). */
  maxAttempts: number;
  /** This tier's number in the chain, when set explicitly. */
  tier?: number;
  /** GOOGLE_CLOUD_PROJECT: for queue paths given by short id, and log trace fields. */
  project?: string;
  /** Location of queues given by short id (TASKS_LOCATION, else NOTIFIER_LOCATION). */
  tasksLocation?: string;
  /** Notifier queue; undefined means notifications cannot be sent (startup warns). */
  notifierQueue?: QueuePath;
  /** Default webhook for jobs that name none. */
  notifyUrl?: string;
  /** The next tier, if any. */
  next?: { queue: QueuePath; url: string };
  /** The next tier as a Pub/Sub topic (NEXT_TOPIC), instead of `next`. */
  nextTopic?: TopicPath;
  /** Topic every terminal outcome is published to (NOTIFY_TOPIC). */
  notifyTopic?: TopicPath;
  /** This tier's own push subscription, for the startup check (EXECUTOR_SUBSCRIPTION). */
  executorSubscription?: SubscriptionPath;
  /** `host:port` of a Pub/Sub emulator; undefined means Google. */
  pubsubEmulatorHost?: string;
  /** Dead-letter queue for undecodable bodies. */
  deadLetterQueue?: QueuePath;
  /** Target URL of dead-letter tasks. */
  deadLetterUrl?: string;
  /** This tier's own queue, for the drift check. */
  executorQueue?: QueuePath;
  /** Service account whose OIDC token created tasks carry. */
  tasksServiceAccount?: string;
  /** `host:port` of an emulator; undefined means Google. */
  emulatorHost?: string;
  /** Inbound authentication. */
  auth: AuthConfig;
  /** The work. */
  worker: WorkerConfig;
  /** Time limit for one run of the work, in milliseconds. */
  workerTimeoutMs: number;
  /** Cap on captured worker output, in bytes. */
  workerMaxOutputBytes: number;
  /** SIGTERM grace period, in milliseconds. */
  shutdownGraceMs: number;
  /** Retry-After of a 503 answer, in seconds (default 10). */
  retryAfterSeconds?: number;
  /** pino level. */
  logLevel: string;
  /**
   * `LOG_DELIVERIES`: `failures` drops the line of a delivery that succeeded without a handoff
   * (busy queues: Cloud Tasks logs each dispatch itself, and Cloud Logging bills per byte). Absent
   * means `all`.
   */
  logDeliveries?: LogDeliveries;
  /** `LOG_FORMAT` when set; unset means "pretty on a terminal outside Cloud Run" (see chooseLogFormat). */
  logFormat?: LogFormat;
  /** Running on Cloud Run (it sets `K_SERVICE`): logs stay JSON there even on a terminal. */
  onCloudRun?: boolean;
}

const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'] as const;

const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());

const positiveInt = (name: string, fallback: number) =>
  z.preprocess(blankToUndefined, integerText(1, Number.MAX_SAFE_INTEGER, `${name} must be a positive integer`).optional().default(fallback));

const url = (name: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .refine((v) => v === undefined || /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), {
        message: `${name} must be an http(s) URL`,
      }),
  );

const hostPort = (name: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .optional()
      .refine((v) => v === undefined || /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(v), {
        message: `${name} must be host:port, e.g. localhost:8123`,
      }),
  );

const bool = (name: string) => z.preprocess(blankToUndefined, booleanText(`${name} must be true or false`).optional().default(false));

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const logFormat = z.preprocess(
  (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().toLowerCase()) : v),
  z.enum(LOG_FORMATS, { message: `LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}` }).optional(),
);

/**
 * `LOG_FORMAT` alone, for the commands that take the rest of their settings from flags (`emulator`,
 * `dev`). Throws a {@link ConfigError} (`EXECUTOR_CONFIG_INVALID`) on a bad value.
 */
export function loadLogFormat(env: NodeJS.ProcessEnv = process.env): { logFormat?: LogFormat; onCloudRun: boolean } {
  const parsed = logFormat.safeParse(env.LOG_FORMAT);
  if (!parsed.success) throw new ConfigError('EXECUTOR_CONFIG_INVALID', parsed.error.issues.map((i) => i.message), 'Invalid configuration');
  return { ...(parsed.data !== undefined ? { logFormat: parsed.data } : {}), onCloudRun: (env.K_SERVICE ?? '') !== '' };
}

const envSchema = z.object({
  PORT: z.preprocess(blankToUndefined, integerText(0, 65535, 'PORT must be an integer from 0 to 65535').optional().default(8080)),
  HOST: optionalString,
  MAX_ATTEMPTS: positiveInt('MAX_ATTEMPTS', 20),
  TIER: z.preprocess(blankToUndefined, integerText(1, Number.MAX_SAFE_INTEGER, 'TIER must be a positive integer').optional()),
  GOOGLE_CLOUD_PROJECT: optionalString,
  TASKS_LOCATION: optionalString,
  NOTIFIER_QUEUE: optionalString,
  NOTIFIER_LOCATION: optionalString,
  NOTIFY_URL: url('NOTIFY_URL'),
  PROBLEM_QUEUE: optionalString,
  PROBLEM_SERVICE: url('PROBLEM_SERVICE'),
  DEAD_LETTER_QUEUE: optionalString,
  DEAD_LETTER_URL: url('DEAD_LETTER_URL'),
  EXECUTOR_QUEUE: optionalString,
  TASKS_SERVICE_ACCOUNT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .optional()
      .refine((v) => v === undefined || /^[^@\s]+@[^@\s]+$/.test(v), {
        message: 'TASKS_SERVICE_ACCOUNT must be a service account email',
      }),
  ),
  CLOUD_TASKS_EMULATOR_HOST: hostPort('CLOUD_TASKS_EMULATOR_HOST'),
  PUBSUB_EMULATOR_HOST: hostPort('PUBSUB_EMULATOR_HOST'),
  NOTIFY_TOPIC: optionalString,
  NEXT_TOPIC: optionalString,
  EXECUTOR_SUBSCRIPTION: optionalString,
  AUTH_AUDIENCE: optionalString,
  /** Set by Cloud Run to the service's name: tells that Host routing is in front of this process. */
  K_SERVICE: optionalString,
  AUTH_ALLOWED_EMAILS: optionalString,
  AUTH_ISSUER: optionalString,
  AUTH_JWKS_URL: url('AUTH_JWKS_URL'),
  AUTH_DISABLED: bool('AUTH_DISABLED'),
  WORKER_MODULE: optionalString,
  WORKER_URL: url('WORKER_URL'),
  WORKER_COMMAND: optionalString,
  WORKER_TIMEOUT_SECONDS: positiveInt('WORKER_TIMEOUT_SECONDS', 300),
  WORKER_MAX_OUTPUT_BYTES: positiveInt('WORKER_MAX_OUTPUT_BYTES', 65536),
  SHUTDOWN_GRACE_SECONDS: positiveInt('SHUTDOWN_GRACE_SECONDS', 8),
  RETRY_AFTER_SECONDS: positiveInt('RETRY_AFTER_SECONDS', 10),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .refine((v) => v === undefined || (LOG_LEVELS as readonly string[]).includes(v), {
        message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`,
      }),
  ),
  LOG_FORMAT: logFormat,
  LOG_DELIVERIES: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().toLowerCase()) : v),
    z.enum(LOG_DELIVERIES, { message: `LOG_DELIVERIES must be ${LOG_DELIVERIES.join(' or ')}` }).optional().default('all'),
  ),
});

/** Splits WORKER_COMMAND into argv: a JSON array of strings, or words separated by whitespace. */
export function parseCommand(value: string): string[] | undefined {
  if (value.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((a) => typeof a === 'string' && a !== '')) {
        return parsed as string[];
      }
    } catch {
      // fall through to the error below
    }
    return undefined;
  }
  const words = value.split(/\s+/).filter((w) => w !== '');
  return words.length > 0 ? words : undefined;
}

type Env = z.output<typeof envSchema>;

/**
 * Parses the environment, collecting every bad value into `problems`; a variable with a bad value
 * is then parsed as if unset (its default), so the checks between variables still run and every
 * problem is reported at once. `invalid` names the variables that had a bad value.
 */
function parseEach(env: NodeJS.ProcessEnv, problems: string[]): { e: Env; invalid: ReadonlySet<keyof Env> } {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return { e: parsed.data, invalid: new Set() };
  problems.push(...formatIssues(parsed.error.issues, (path) => String(path[0] ?? 'environment')));
  const invalid = new Set(parsed.error.issues.map((i) => i.path[0]).filter((k): k is keyof Env => typeof k === 'string' && k in envSchema.shape));
  const rest: NodeJS.ProcessEnv = { ...env };
  for (const k of invalid) delete rest[k];
  // Every field parses on its own, so without the bad ones the object parses.
  return { e: envSchema.parse(rest), invalid };
}

/** The one unit of work the environment names; pushes a problem unless exactly one is set. */
function workerOf(e: Env, isSet: (k: keyof Env) => boolean, problems: string[]): WorkerConfig | undefined {
  let worker: WorkerConfig | undefined;
  const workers = (['WORKER_MODULE', 'WORKER_URL', 'WORKER_COMMAND'] as const).filter((w) => isSet(w));
  if (workers.length !== 1) {
    problems.push(
      workers.length === 0
        ? 'No work configured: set exactly one of WORKER_MODULE (a module path or `demo`), WORKER_URL or WORKER_COMMAND'
        : `Set exactly one of WORKER_MODULE, WORKER_URL, WORKER_COMMAND; got ${workers.join(' and ')}`,
    );
  } else if (e.WORKER_MODULE !== undefined) {
    worker = { kind: 'module', module: e.WORKER_MODULE };
  } else if (e.WORKER_URL !== undefined) {
    worker = { kind: 'http', url: e.WORKER_URL };
  } else if (e.WORKER_COMMAND !== undefined) {
    const argv = parseCommand(e.WORKER_COMMAND);
    if (argv === undefined) {
      problems.push(`WORKER_COMMAND must be a non-empty JSON array of strings or words separated by spaces, got '${e.WORKER_COMMAND}'`);
    } else {
      worker = { kind: 'command', argv };
    }
  }
  return worker;
}

/** Inbound auth from the environment: fail closed unless AUTH_DISABLED says otherwise. */
function authOf(e: Env, problems: string[]): AuthConfig | undefined {
  let auth: AuthConfig | undefined;
  const issuers = e.AUTH_ISSUER?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

  if (e.AUTH_DISABLED) {
    auth = { disabled: true };
  } else {
    const allowed = (e.AUTH_ALLOWED_EMAILS ?? e.TASKS_SERVICE_ACCOUNT ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const badEmails = allowed.filter((s) => !/^[^@\s]+@[^@\s]+$/.test(s));
    if (badEmails.length > 0) {
      problems.push(`AUTH_ALLOWED_EMAILS must be a comma-separated list of emails, got '${badEmails.join(', ')}'`);
    } else if (allowed.length === 0) {
      problems.push(
        'Inbound auth is not configured: set AUTH_ALLOWED_EMAILS (or TASKS_SERVICE_ACCOUNT) to the account whose OIDC token Cloud Tasks attaches, or AUTH_DISABLED=true for local use',
      );
    } else {
      auth = {
        disabled: false,
        allowedEmails: allowed,
        issuers: issuers ?? [...GOOGLE_ISSUERS],
        ...(e.AUTH_AUDIENCE !== undefined ? { audience: e.AUTH_AUDIENCE } : { hostAudience: e.K_SERVICE !== undefined }),
        ...(e.AUTH_JWKS_URL !== undefined ? { jwksUrl: e.AUTH_JWKS_URL } : {}),
      };
    }
  }
  return auth;
}

/**
 * Reads and validates the executor's configuration from an environment. Throws a
 * {@link ConfigError} (code `EXECUTOR_CONFIG_INVALID`) listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const problems: string[] = [];
  const { e, invalid } = parseEach(env, problems);
  // A variable with a bad value is still set: the checks between variables see it as present, so a
  // bad PROBLEM_SERVICE next to a missing PROBLEM_QUEUE is reported together, in one message.
  const isSet = (k: keyof Env): boolean => e[k] !== undefined || invalid.has(k);
  const project = e.GOOGLE_CLOUD_PROJECT;
  const location = e.TASKS_LOCATION ?? e.NOTIFIER_LOCATION;

  const notifierQueue = resolveQueuePath(
    'NOTIFIER_QUEUE',
    e.NOTIFIER_QUEUE,
    project,
    e.NOTIFIER_LOCATION ?? e.TASKS_LOCATION,
    problems,
    'NOTIFIER_LOCATION',
  );
  const problemQueue = resolveQueuePath('PROBLEM_QUEUE', e.PROBLEM_QUEUE, project, location, problems);
  const deadLetterQueue = resolveQueuePath('DEAD_LETTER_QUEUE', e.DEAD_LETTER_QUEUE, project, location, problems);
  const executorQueue = resolveQueuePath('EXECUTOR_QUEUE', e.EXECUTOR_QUEUE, project, location, problems);

  if (isSet('PROBLEM_QUEUE') !== isSet('PROBLEM_SERVICE')) {
    problems.push(
      !isSet('PROBLEM_QUEUE')
        ? 'PROBLEM_SERVICE is set but PROBLEM_QUEUE is not: set both to chain to the next tier, or neither on the last tier'
        : 'PROBLEM_QUEUE is set but PROBLEM_SERVICE is not: set the next tier\'s URL too, or unset PROBLEM_QUEUE on the last tier',
    );
  }

  const notifyTopic = resolvePubSubPath('NOTIFY_TOPIC', e.NOTIFY_TOPIC, project, 'topics', problems);
  const nextTopic = resolvePubSubPath('NEXT_TOPIC', e.NEXT_TOPIC, project, 'topics', problems);
  const executorSubscription = resolvePubSubPath('EXECUTOR_SUBSCRIPTION', e.EXECUTOR_SUBSCRIPTION, project, 'subscriptions', problems);
  if (isSet('NEXT_TOPIC') && isSet('PROBLEM_QUEUE')) {
    problems.push('NEXT_TOPIC and PROBLEM_QUEUE are both set: a tier forwards to one next tier, a topic or a queue; unset one');
  }

  if (isSet('DEAD_LETTER_QUEUE') && !isSet('DEAD_LETTER_URL')) {
    problems.push(
      'DEAD_LETTER_QUEUE is set but DEAD_LETTER_URL is not: every task needs a target URL (pause the dead-letter queue to hold tasks for inspection)',
    );
  }

  const worker = workerOf(e, isSet, problems);
  // Whether inbound auth is configured depends on these two; with a bad value, its own message says enough.
  const auth = invalid.has('AUTH_DISABLED') || invalid.has('TASKS_SERVICE_ACCOUNT') ? undefined : authOf(e, problems);

  if (problems.length > 0 || worker === undefined || auth === undefined) {
    throw new ConfigError('EXECUTOR_CONFIG_INVALID', problems, 'Invalid executor configuration');
  }

  return {
    port: e.PORT,
    host: e.HOST ?? '0.0.0.0',
    maxAttempts: e.MAX_ATTEMPTS,
    ...(e.TIER !== undefined ? { tier: e.TIER } : {}),
    ...(project !== undefined ? { project } : {}),
    ...(location !== undefined ? { tasksLocation: location } : {}),
    ...(notifierQueue !== undefined ? { notifierQueue } : {}),
    ...(e.NOTIFY_URL !== undefined ? { notifyUrl: e.NOTIFY_URL } : {}),
    ...(problemQueue !== undefined && e.PROBLEM_SERVICE !== undefined ? { next: { queue: problemQueue, url: e.PROBLEM_SERVICE } } : {}),
    ...(nextTopic !== undefined ? { nextTopic } : {}),
    ...(notifyTopic !== undefined ? { notifyTopic } : {}),
    ...(executorSubscription !== undefined ? { executorSubscription } : {}),
    // The project's emulator serves Cloud Tasks and Pub/Sub on one port.
    ...((e.PUBSUB_EMULATOR_HOST ?? e.CLOUD_TASKS_EMULATOR_HOST) !== undefined ? { pubsubEmulatorHost: (e.PUBSUB_EMULATOR_HOST ?? e.CLOUD_TASKS_EMULATOR_HOST)! } : {}),
    ...(deadLetterQueue !== undefined ? { deadLetterQueue } : {}),
    ...(e.DEAD_LETTER_URL !== undefined ? { deadLetterUrl: e.DEAD_LETTER_URL } : {}),
    ...(executorQueue !== undefined ? { executorQueue } : {}),
    ...(e.TASKS_SERVICE_ACCOUNT !== undefined ? { tasksServiceAccount: e.TASKS_SERVICE_ACCOUNT } : {}),
    ...(e.CLOUD_TASKS_EMULATOR_HOST !== undefined ? { emulatorHost: e.CLOUD_TASKS_EMULATOR_HOST } : {}),
    auth,
    worker,
    workerTimeoutMs: e.WORKER_TIMEOUT_SECONDS * 1000,
    workerMaxOutputBytes: e.WORKER_MAX_OUTPUT_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    retryAfterSeconds: e.RETRY_AFTER_SECONDS,
    logLevel: e.LOG_LEVEL ?? 'info',
    logDeliveries: e.LOG_DELIVERIES,
    ...(e.LOG_FORMAT !== undefined ? { logFormat: e.LOG_FORMAT } : {}),
    onCloudRun: e.K_SERVICE !== undefined,
  };
}
