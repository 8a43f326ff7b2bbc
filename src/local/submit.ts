/**
 * `executor submit`: the original demo client, rebuilt. Sends work requests — a good or an invalid
 * SvcWorkRequest, N of them, or a JSON envelope from a file — into a queue through the official
 * Cloud Tasks client, against the emulator (`--emulator` or CLOUD_TASKS_EMULATOR_HOST) or Google
 * (Application Default Credentials).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, CodedError, messageOf } from '../errors.js';
import { decodeBody, UndecodableBodyError } from '../executor/codecs.js';
import { intFlag, parseFlags, urlFlag, validateFlags, type RawFlags } from './args.js';
import {
  GOOD_SOURCE_FILE,
  INVALID_SOURCE_FILE,
  LOCAL_LOCATION,
  LOCAL_PROJECT,
  LOCAL_SERVICE_ACCOUNT,
  SUBMIT_TIMEOUT_MS,
  TIER1_PORT,
  WEBHOOK_PATH,
  WEBHOOK_PORT,
} from './defaults.js';
import { makeCreateTask, newTasksClient, parseHostPort, resolveQueuePath, type TasksApi } from '../queues/index.js';
import { contentTypeOf, encodeRequest, type RequestEncoding } from './wire.js';

/** What to send, resolved from flags and environment. */
export interface SubmitOptions {
  /** Full queue path. */
  queue: string;
  /** Target URL of the tasks (the executor tier). */
  url: string;
  /** Emulator `host:port`; undefined means Google. */
  emulatorHost?: string;
  /** How many tasks. */
  count: number;
  /** What each task carries. */
  payload:
    | { kind: 'request'; encoding: RequestEncoding; sourceFile: string; webhookUrl?: string; idPrefix?: string }
    | { kind: 'envelope'; file: string };
  /** OIDC service account; undefined sends no token. */
  serviceAccount?: string;
  /** OIDC audience (default: the target URL). */
  audience?: string;
  /** Print one JSON object per task instead of text. */
  json: boolean;
}

/** One created task. */
export interface Submitted {
  /** Full task name. */
  task: string;
  /** Context id of the request; undefined for envelopes. */
  jobId?: string;
}

const FLAGS = {
  queue: { type: 'string' },
  project: { type: 'string' },
  location: { type: 'string' },
  url: { type: 'string' },
  emulator: { type: 'string' },
  invalid: { type: 'boolean' },
  'source-file': { type: 'string' },
  count: { type: 'string', short: 'n' },
  file: { type: 'string', short: 'f' },
  encoding: { type: 'string' },
  webhook: { type: 'string' },
  id: { type: 'string' },
  'service-account': { type: 'string' },
  'oidc-service-account-email': { type: 'string' },
  audience: { type: 'string' },
  'oidc-token-audience': { type: 'string' },
  'no-oidc': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `executor submit --help`. */
export const SUBMIT_USAGE = `Usage: executor submit [options]

Sends work requests into a Cloud Tasks queue through the official client.

What to send (default: one good SvcWorkRequest, binary protobuf):
  --invalid                 a request the demo worker fails on (sourceFile "invalid")
  --source-file S           the request's sourceFile (default ${GOOD_SOURCE_FILE})
  -n, --count N             send N requests (default 1, at most 100000)
  --encoding E              binary (default: SvcWorkRequest as binary protobuf, like the original
                            client), json (its proto3 JSON mapping) or envelope (the JSON envelope
                            {"payload": {"sourceFile": …}, "webhookUrl": …, "id": …})
  --id ID                   the request's context id (with --count: ID-1 … ID-N; default: random)
  --webhook URL             where the notification goes (emulator default: http://127.0.0.1:${WEBHOOK_PORT}${WEBHOOK_PATH})
  -f, --file F              send the JSON body in file F instead of a SvcWorkRequest: an envelope,
                            a Firebase {"data": …} body or a SvcWorkRequest in JSON, checked by the
                            executor's own decoder before anything is enqueued

Where to send it:
  --queue Q                 queue id or full path (default incoming)
  --project P               default: GOOGLE_CLOUD_PROJECT, or ${LOCAL_PROJECT} with an emulator
  --location L              default: TASKS_LOCATION, or ${LOCAL_LOCATION}
  --url URL                 the executor the task is pushed to (emulator default: http://127.0.0.1:${TIER1_PORT}/)
  --emulator HOST:PORT      use the emulator (default: CLOUD_TASKS_EMULATOR_HOST; unset = Google with ADC)
  --service-account EMAIL   OIDC token identity (emulator default: ${LOCAL_SERVICE_ACCOUNT});
                            gcloud's spelling --oidc-service-account-email works too
  --audience AUD            OIDC audience (default: the target URL); also --oidc-token-audience
  --no-oidc                 send no OIDC token
  --json                    print one JSON line per created task

Examples:
  executor submit --emulator localhost:8123
  executor submit --emulator localhost:8123 --invalid --count 10
  executor submit --project my-project --location europe-west1 --url https://executor-xyz.a.run.app/ \\
    --service-account tasks@my-project.iam.gserviceaccount.com --webhook https://example.com/hook`;

const schema = z.object({
  queue: z.string().optional(),
  project: z.string().optional(),
  location: z.string().optional(),
  url: urlFlag('url'),
  emulator: z.string().optional(),
  invalid: z.boolean().optional(),
  'source-file': z.string().min(1, '--source-file must not be empty').optional(),
  count: intFlag('count', 1, 100_000),
  file: z.string().optional(),
  encoding: z.enum(['binary', 'json', 'envelope'], { message: "--encoding must be 'binary', 'json' or 'envelope'" }).optional(),
  webhook: urlFlag('webhook'),
  id: z.string().regex(/^[^\s]{1,200}$/, '--id must be 1 to 200 non-space characters').optional(),
  'service-account': z.string().regex(/^[^@\s]+@[^@\s]+$/, '--service-account must be a service account email').optional(),
  audience: z.string().optional(),
  'no-oidc': z.boolean().optional(),
  json: z.boolean().optional(),
  help: z.boolean().optional(),
});

/**
 * Resolves `executor submit` flags (and CLOUD_TASKS_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT,
 * TASKS_LOCATION from `env`) into options; `'help'` when help was asked for. Throws a ConfigError
 * naming every problem.
 */
export function parseSubmitArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SubmitOptions | 'help' {
  const f = validateFlags('submit', schema, gcloudSpellings(parseFlags('submit', argv, FLAGS)));
  if (f.help === true) return 'help';
  const problems: string[] = [];

  const emulatorHost = f.emulator ?? (env.CLOUD_TASKS_EMULATOR_HOST?.trim() || undefined);
  if (emulatorHost !== undefined) {
    try {
      parseHostPort(emulatorHost);
    } catch (err) {
      problems.push(messageOf(err));
    }
  }
  const local = emulatorHost !== undefined;

  const project = f.project ?? (env.GOOGLE_CLOUD_PROJECT?.trim() || undefined) ?? (local ? LOCAL_PROJECT : undefined);
  const location = f.location ?? (env.TASKS_LOCATION?.trim() || undefined) ?? (local ? LOCAL_LOCATION : undefined);
  const queueName = f.queue ?? 'incoming';
  let queue: string | undefined;
  if (!queueName.startsWith('projects/') && (project === undefined || location === undefined)) {
    const missing = [project === undefined ? '--project (or GOOGLE_CLOUD_PROJECT)' : '', location === undefined ? '--location (or TASKS_LOCATION)' : ''].filter((m) => m !== '');
    problems.push(`--queue '${queueName}' is a short id: pass ${missing.join(' and ')}, a full queue path, or --emulator host:port to use a local emulator`);
  } else {
    queue = resolveQueuePath('--queue', queueName, project, location, problems, '--location');
  }

  const url = f.url ?? (local ? `http://127.0.0.1:${TIER1_PORT}/` : undefined);
  if (url === undefined) problems.push('--url is required with Google Cloud Tasks: the URL of the executor the task is pushed to');

  if (f.file !== undefined) {
    const clashing = (['invalid', 'source-file', 'encoding', 'webhook', 'id'] as const).filter((k) => f[k] !== undefined);
    if (clashing.length > 0) problems.push(`--file sends the envelope as written; it cannot be combined with ${clashing.map((k) => `--${k}`).join(', ')}`);
  }
  if (f.invalid === true && f['source-file'] !== undefined) problems.push('--invalid and --source-file both set the sourceFile: give one');
  if (f['no-oidc'] === true && (f['service-account'] !== undefined || f.audience !== undefined)) {
    problems.push('--no-oidc cannot be combined with --service-account or --audience');
  }

  if (problems.length > 0 || queue === undefined || url === undefined) {
    throw new ConfigError('CLI_ARGS_INVALID', problems, 'Invalid arguments for executor submit');
  }

  const serviceAccount = f['no-oidc'] === true ? undefined : (f['service-account'] ?? (local ? LOCAL_SERVICE_ACCOUNT : undefined));
  const webhookUrl = f.webhook ?? (local ? `http://127.0.0.1:${WEBHOOK_PORT}${WEBHOOK_PATH}` : undefined);
  return {
    queue,
    url,
    ...(emulatorHost !== undefined ? { emulatorHost } : {}),
    count: f.count ?? 1,
    payload:
      f.file !== undefined
        ? { kind: 'envelope', file: f.file }
        : {
            kind: 'request',
            encoding: f.encoding ?? 'binary',
            sourceFile: f.invalid === true ? INVALID_SOURCE_FILE : (f['source-file'] ?? GOOD_SOURCE_FILE),
            ...(webhookUrl !== undefined ? { webhookUrl } : {}),
            ...(f.id !== undefined ? { idPrefix: f.id } : {}),
          },
    ...(serviceAccount !== undefined ? { serviceAccount } : {}),
    ...(f.audience !== undefined ? { audience: f.audience } : {}),
    json: f.json === true,
  };
}

/**
 * `gcloud tasks create-http-task` spells two of our flags differently; either spelling works, and
 * both at once must agree.
 */
function gcloudSpellings(raw: RawFlags): RawFlags {
  const out = { ...raw };
  for (const [ours, theirs] of [['service-account', 'oidc-service-account-email'], ['audience', 'oidc-token-audience']] as const) {
    const alias = out[theirs];
    delete out[theirs];
    if (alias === undefined) continue;
    if (out[ours] !== undefined && out[ours] !== alias) {
      throw new ConfigError('CLI_ARGS_INVALID', [`--${ours} and --${theirs} are the same flag: give one (got '${String(out[ours])}' and '${String(alias)}')`], 'Invalid arguments for executor submit');
    }
    out[ours] = alias;
  }
  return out;
}

/**
 * Reads a JSON body file and checks it with the executor's own decoder, so a body the executor
 * would dead-letter is refused here, before anything is enqueued; sent re-serialised compactly.
 */
async function readEnvelope(file: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CodedError('ENVELOPE_UNREADABLE', `Cannot read envelope file ${file}: ${messageOf(err)}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CodedError('ENVELOPE_INVALID', `Envelope file ${file} is not valid JSON: ${messageOf(err)}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CodedError('ENVELOPE_INVALID', `Envelope file ${file} must hold a JSON object (with at least a "payload"), got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const body = Buffer.from(JSON.stringify(parsed));
  try {
    decodeBody(body);
  } catch (err) {
    if (!(err instanceof UndecodableBodyError)) throw err;
    throw new CodedError('ENVELOPE_INVALID', `${file} is not a body the executor accepts, so nothing was enqueued: ${err.message}`, { cause: err });
  }
  return body;
}

/** Context id of the i-th (0-based) request. */
function jobIdFor(prefix: string | undefined, i: number, count: number): string {
  if (prefix === undefined) return `job-${randomUUID()}`;
  return count === 1 ? prefix : `${prefix}-${i + 1}`;
}

/**
 * Creates the tasks; calls `onCreated` as each one is accepted. Stops at the first error (already
 * created tasks stay: they are real work).
 */
export async function submit(options: SubmitOptions, client: TasksApi, onCreated?: (s: Submitted) => void): Promise<Submitted[]> {
  const envelope = options.payload.kind === 'envelope' ? await readEnvelope(options.payload.file) : undefined;
  const created: Submitted[] = [];
  const endpoint = options.emulatorHost !== undefined ? { emulatorHost: options.emulatorHost } : {};
  const createTask = makeCreateTask(client, { timeoutMs: SUBMIT_TIMEOUT_MS, explain: endpoint });
  let next = 0;
  let failure: unknown;
  // A few requests in flight: fast for --count, gentle on a real quota.
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < options.count) {
      const i = next++;
      let body: Buffer;
      let contentType: string;
      let jobId: string | undefined;
      if (envelope !== undefined) {
        body = envelope;
        contentType = 'application/json';
      } else {
        const p = options.payload as Extract<SubmitOptions['payload'], { kind: 'request' }>;
        jobId = jobIdFor(p.idPrefix, i, options.count);
        body = encodeRequest({ sourceFile: p.sourceFile, ...(p.webhookUrl !== undefined ? { webhookUrl: p.webhookUrl } : {}), context: { id: jobId } }, p.encoding);
        contentType = contentTypeOf(p.encoding);
      }
      try {
        const { name: task } = await createTask({
          queue: options.queue,
          url: options.url,
          body,
          headers: { 'Content-Type': contentType },
          ...(options.serviceAccount !== undefined ? { serviceAccount: options.serviceAccount } : {}),
          ...(options.audience !== undefined ? { audience: options.audience } : {}),
        });
        const s: Submitted = { task, ...(jobId !== undefined ? { jobId } : {}) };
        created.push(s);
        onCreated?.(s);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, options.count) }, () => worker()));
  if (failure !== undefined) {
    if (created.length > 0 && failure instanceof CodedError) {
      throw new CodedError(failure.code, `${failure.message}\n(${created.length} of ${options.count} tasks were created before the failure)`, { cause: failure });
    }
    throw failure instanceof Error ? failure : new Error(`Submitting failed: ${JSON.stringify(failure)}`);
  }
  return created;
}

/** Entry point of `executor submit`. */
export async function runSubmit(argv: string[]): Promise<void> {
  const options = parseSubmitArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${SUBMIT_USAGE}\n`);
    return;
  }
  if (options.serviceAccount === undefined && options.emulatorHost === undefined) {
    process.stderr.write('executor submit: no --service-account: the tasks carry no OIDC token, so an executor with inbound auth (the default) will refuse them\n');
  }
  const client = newTasksClient(options.emulatorHost);
  try {
    const created = await submit(options, client, (s) => {
      process.stdout.write(options.json ? `${JSON.stringify(s)}\n` : `created ${s.task}${s.jobId !== undefined ? `  (job ${s.jobId})` : ''}\n`);
    });
    if (!options.json && created.length > 1) process.stdout.write(`${created.length} tasks created in ${options.queue}\n`);
  } finally {
    await client.close();
  }
}
