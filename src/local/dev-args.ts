/**
 * Flags of `executor dev`, validated into {@link DevOptions}.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { intFlag, numberFlag, parseFlags, urlFlag, validateFlags } from './args.js';
import type { BatchEncoding } from './batch.js';
import { EMULATOR_PORT, TIER1_PORT, TIER2_PORT, WEBHOOK_PORT } from './defaults.js';

/** The queues file shipped with the package (works from src/ and from dist/). */
export const DEFAULT_QUEUES_FILE = fileURLToPath(new URL('../../local/queues.yaml', import.meta.url));

/**
 * What the tiers of the local stack run: the built-in demo, or the user's own work — the same three
 * kinds `executor serve` takes (WORKER_MODULE, WORKER_URL, WORKER_COMMAND), as their variables.
 */
export type DevWork = { WORKER_MODULE: string } | { WORKER_URL: string } | { WORKER_COMMAND: string };

/** Options of the whole local stack. */
export interface DevOptions {
  /** What both tiers run (default the demo handler). */
  work: DevWork;
  /** Run everything. */
  mode: 'stack';
  /** Interface every component binds. */
  host: string;
  /** Emulator port (0 = any free one). */
  emulatorPort: number;
  /** Tier 1 port. */
  tier1Port: number;
  /** Tier 2 port. */
  tier2Port: number;
  /** Webhook port. */
  webhookPort: number;
  /** The emulator's queues file. */
  queuesFile: string;
  /** Jobs in the demo batch submitted through Cloud Tasks. */
  jobs: number;
  /** Jobs in the demo batch published to the Pub/Sub jobs topic. */
  pubsubJobs: number;
  /** Share of invalid jobs, 0..1. */
  invalidRatio: number;
  /** Wire encoding of the batch. */
  encoding: BatchEncoding;
  /** Tier 1's MAX_ATTEMPTS. */
  tier1MaxAttempts: number;
  /** Tier 2's MAX_ATTEMPTS. */
  tier2MaxAttempts: number;
  /** Exit once every job is accounted for (or on timeout). */
  exitWhenDone: boolean;
  /** Print the summary as one JSON object on stdout, nothing else there. */
  json: boolean;
  /** How long to wait for the batch's notifications, in milliseconds. */
  timeoutMs: number;
  /** Where the components log. */
  logFile: string;
  /** Their log level. */
  logLevel: string;
}

/** Options of the standalone webhook (`executor dev --webhook-only`). */
export interface WebhookOnlyOptions {
  /** Run only the webhook receiver. */
  mode: 'webhook-only';
  /** Interface to bind. */
  host: string;
  /** Port. */
  port: number;
  /** Log file; stdout when undefined. */
  logFile?: string;
  /** Log level. */
  logLevel: string;
}

const FLAGS = {
  jobs: { type: 'string', short: 'n' },
  'pubsub-jobs': { type: 'string' },
  'invalid-ratio': { type: 'string' },
  encoding: { type: 'string' },
  'exit-when-done': { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'tier1-port': { type: 'string' },
  'tier2-port': { type: 'string' },
  'webhook-port': { type: 'string' },
  'tier1-max-attempts': { type: 'string' },
  'tier2-max-attempts': { type: 'string' },
  queues: { type: 'string' },
  'log-file': { type: 'string' },
  'log-level': { type: 'string' },
  'webhook-only': { type: 'boolean' },
  'worker-module': { type: 'string' },
  'worker-url': { type: 'string' },
  'worker-command': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `executor dev --help`. */
export const DEV_USAGE = `Usage: executor dev [options]        (npm start = executor dev)

Runs the whole chain in one process — the Cloud Tasks emulator, executor tier 1 and tier 2 (OIDC
verified against the emulator's keys), the notifier queue and a webhook receiver — submits a demo
batch into 'incoming', shows live progress, prints a summary and keeps serving until Ctrl-C.

Demo batch:
  -n, --jobs N               jobs to submit through Cloud Tasks (default 300; 0 = none, just serve)
  --pubsub-jobs N            jobs to publish to the Pub/Sub topic 'jobs', pushed to tier 1
                             (default a tenth of --jobs)
  --invalid-ratio R          share of jobs with sourceFile "invalid" (0..1, default 0.2): they exhaust
                             tier 1, move to tier 2 and end in a failure notification
  --encoding E               binary | json | envelope | mixed (default binary, the original
                             client's; mixed = the three in turn)
  --exit-when-done           exit once every job is accounted for: 0 when each got exactly one
                             notification with the expected outcome, 1 otherwise (or on --timeout)
  --json                     print the summary as one JSON object on stdout (progress goes to stderr)
  --timeout SECONDS          how long to wait for the batch (default 120)

Stack:
  --port P                   emulator port (default ${EMULATOR_PORT}; 0 = any free port)
  --tier1-port P             tier 1 port (default ${TIER1_PORT})
  --tier2-port P             tier 2 port (default ${TIER2_PORT})
  --webhook-port P           webhook port (default ${WEBHOOK_PORT})
  --host H                   interface to bind (default 127.0.0.1)
  --tier1-max-attempts N     tier 1 MAX_ATTEMPTS (default 3)
  --tier2-max-attempts N     tier 2 MAX_ATTEMPTS (default 3)
  --queues FILE              emulator queues file (default: the package's local/queues.yaml)
  --log-file FILE            where the components log (default executor-dev.log)
  --log-level L              trace | debug | info | warn | error | silent (default info)

Your own work (at most one; default the built-in demo handler), run by both tiers exactly as
'executor serve' runs WORKER_MODULE / WORKER_URL / WORKER_COMMAND. The demo batch fits only the
demo handler, so with one of these --jobs defaults to 0: send work with 'executor submit'.
  --worker-module FILE       an ES module exporting the handler (relative to the working directory)
  --worker-url URL           an HTTP worker: each job is POSTed to it as JSON
  --worker-command CMD       a command per job, the job on stdin (a JSON array of argv, or words)

Standalone webhook (docker-compose's 'webhook' service):
  --webhook-only             run only the webhook receiver, logging each notification to stdout;
                             listens on --host (default 127.0.0.1) and --webhook-port (default: $PORT,
                             else ${WEBHOOK_PORT})`;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const schema = z.object({
  jobs: intFlag('jobs', 0, 100_000),
  'pubsub-jobs': intFlag('pubsub-jobs', 0, 100_000),
  'invalid-ratio': numberFlag('invalid-ratio', 0, 1),
  encoding: z.enum(['binary', 'json', 'envelope', 'mixed'], { message: "--encoding must be 'binary', 'json', 'envelope' or 'mixed'" }).optional(),
  'exit-when-done': z.boolean().optional(),
  json: z.boolean().optional(),
  timeout: numberFlag('timeout', 1, 86_400),
  host: z.string().min(1).optional(),
  port: intFlag('port', 0, 65535),
  'tier1-port': intFlag('tier1-port', 0, 65535),
  'tier2-port': intFlag('tier2-port', 0, 65535),
  'webhook-port': intFlag('webhook-port', 0, 65535),
  'tier1-max-attempts': intFlag('tier1-max-attempts', 1, 1000),
  'tier2-max-attempts': intFlag('tier2-max-attempts', 1, 1000),
  queues: z.string().min(1).optional(),
  'log-file': z.string().min(1).optional(),
  'log-level': z.enum(LOG_LEVELS, { message: `--log-level must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
  'webhook-only': z.boolean().optional(),
  'worker-module': z.string().min(1, '--worker-module must name a file').optional(),
  'worker-url': urlFlag('worker-url'),
  'worker-command': z.string().trim().min(1, '--worker-command must name a command').optional(),
  help: z.boolean().optional(),
});

/** The tiers' work from the --worker-* flags (at most one), or the demo. */
function workOf(f: { 'worker-module'?: string | undefined; 'worker-url'?: string | undefined; 'worker-command'?: string | undefined }, cwdPath: (p: string) => string): DevWork {
  const given = (['worker-module', 'worker-url', 'worker-command'] as const).filter((k) => f[k] !== undefined);
  if (given.length > 1) {
    throw new ConfigError('CLI_ARGS_INVALID', [`Give at most one of --worker-module, --worker-url, --worker-command; got ${given.map((k) => `--${k}`).join(' and ')}`], 'Invalid arguments for executor dev');
  }
  if (f['worker-module'] !== undefined) return { WORKER_MODULE: f['worker-module'] === 'demo' ? 'demo' : cwdPath(f['worker-module']) };
  if (f['worker-url'] !== undefined) return { WORKER_URL: f['worker-url'] };
  if (f['worker-command'] !== undefined) return { WORKER_COMMAND: f['worker-command'] };
  return { WORKER_MODULE: 'demo' };
}

/** Parses `executor dev` arguments; `'help'` when asked. Throws a ConfigError naming every problem. */
export function parseDevArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DevOptions | WebhookOnlyOptions | 'help' {
  const f = validateFlags('dev', schema, parseFlags('dev', argv, FLAGS));
  if (f.help === true) return 'help';
  const cwdPath = (p: string): string => (isAbsolute(p) ? p : resolve(process.cwd(), p));

  if (f['webhook-only'] === true) {
    const allowed = new Set(['webhook-only', 'host', 'webhook-port', 'log-file', 'log-level']);
    const extra = Object.keys(f).filter((k) => f[k as keyof typeof f] !== undefined && !allowed.has(k));
    if (extra.length > 0) {
      throw new ConfigError(
        'CLI_ARGS_INVALID',
        [`--webhook-only takes only --host, --webhook-port, --log-file and --log-level; got ${extra.map((k) => `--${k}`).join(', ')}`],
        'Invalid arguments for executor dev',
      );
    }
    let port = f['webhook-port'];
    if (port === undefined && env.PORT !== undefined && env.PORT.trim() !== '') {
      const n = Number(env.PORT);
      if (!/^\s*\d+\s*$/.test(env.PORT) || n > 65535) {
        throw new ConfigError('CLI_ARGS_INVALID', [`PORT must be an integer from 0 to 65535, got '${env.PORT}'`], 'Invalid arguments for executor dev');
      }
      port = n;
    }
    return {
      mode: 'webhook-only',
      host: f.host ?? '127.0.0.1',
      port: port ?? WEBHOOK_PORT,
      ...(f['log-file'] !== undefined ? { logFile: cwdPath(f['log-file']) } : {}),
      logLevel: f['log-level'] ?? 'info',
    };
  }

  const work = workOf(f, cwdPath);
  const ownWork = !('WORKER_MODULE' in work && work.WORKER_MODULE === 'demo');
  if (ownWork && ((f.jobs !== undefined && f.jobs > 0) || (f['pubsub-jobs'] !== undefined && f['pubsub-jobs'] > 0))) {
    throw new ConfigError(
      'CLI_ARGS_INVALID',
      [`${f.jobs !== undefined && f.jobs > 0 ? `--jobs ${f.jobs}` : `--pubsub-jobs ${f['pubsub-jobs']}`} submits the demo batch, whose expected outcomes are the demo handler's: with your own work, start with --jobs 0 (the default) and send jobs with 'executor submit'`],
      'Invalid arguments for executor dev',
    );
  }
  const options: DevOptions = {
    mode: 'stack',
    work,
    host: f.host ?? '127.0.0.1',
    emulatorPort: f.port ?? EMULATOR_PORT,
    tier1Port: f['tier1-port'] ?? TIER1_PORT,
    tier2Port: f['tier2-port'] ?? TIER2_PORT,
    webhookPort: f['webhook-port'] ?? WEBHOOK_PORT,
    queuesFile: f.queues !== undefined ? cwdPath(f.queues) : DEFAULT_QUEUES_FILE,
    jobs: f.jobs ?? (ownWork ? 0 : 300),
    pubsubJobs: f['pubsub-jobs'] ?? (ownWork ? 0 : Math.round((f.jobs ?? 300) / 10)),
    invalidRatio: f['invalid-ratio'] ?? 0.2,
    encoding: f.encoding ?? 'binary',
    tier1MaxAttempts: f['tier1-max-attempts'] ?? 3,
    tier2MaxAttempts: f['tier2-max-attempts'] ?? 3,
    exitWhenDone: f['exit-when-done'] === true,
    json: f.json === true,
    timeoutMs: (f.timeout ?? 120) * 1000,
    logFile: cwdPath(f['log-file'] ?? 'executor-dev.log'),
    logLevel: f['log-level'] ?? 'info',
  };
  const fixed = [
    ['--port', options.emulatorPort],
    ['--tier1-port', options.tier1Port],
    ['--tier2-port', options.tier2Port],
    ['--webhook-port', options.webhookPort],
  ] as const;
  const clashes = fixed.filter(([, p], i) => p !== 0 && fixed.findIndex(([, q]) => q === p) !== i);
  if (clashes.length > 0) {
    throw new ConfigError('CLI_ARGS_INVALID', clashes.map(([flag, p]) => `${flag} ${p} is already used by another component: give each its own port (or 0)`), 'Invalid arguments for executor dev');
  }
  return options;
}
