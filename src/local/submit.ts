/**
 * `executor submit`: the original demo client, rebuilt. Sends work requests — a good or an invalid
 * SvcWorkRequest, N of them, a JSON body from a file (checked first) or raw bytes — into a queue
 * through the official Cloud Tasks client, or to a Pub/Sub topic through the official Pub/Sub
 * client, against the emulator (`--emulator`, CLOUD_TASKS_EMULATOR_HOST, PUBSUB_EMULATOR_HOST) or
 * Google (Application Default Credentials). With --wait it follows each job to its notification.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, CodedError, messageOf } from '../errors.js';
import { decodeBody, UndecodableBodyError, type DecodedBody } from '../executor/codecs.js';
import type { JobFormat } from '../work/types.js';
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
import { makeCreateTask, newTasksClient, checkHostPort, resolveQueuePath, type TasksApi } from '../queues/index.js';
import type { PublishMessage } from '../queues/publish-message.js';
import { resolveTopicPath, type TopicPath } from '../queues/topic-path.js';
import { followJobs } from './follow.js';
import type { JobNotification } from './job-notifications.js';
import { parseHeaders, parseScheduleTime } from './task-flags.js';
import { contentTypeOf, encodeRequest, type RequestEncoding } from './wire.js';

/** A work request generated from flags (the original client's message). */
export interface RequestPayload {
  kind: 'request';
  /** How the request is encoded. */
  encoding: RequestEncoding;
  /** The request's sourceFile. */
  sourceFile: string;
  /** Where the notification goes. */
  webhookUrl?: string;
  /** Context id, or the prefix of numbered ids with a count. */
  idPrefix?: string;
}

/** What each task or message carries. */
export type SubmitPayload =
  | RequestPayload
  /** `--file`: a JSON body, checked by the executor's own decoder before anything is sent. */
  | { kind: 'file'; file: string }
  /** `--body-file`: bytes sent exactly as they are in the file, unchecked. */
  | { kind: 'raw'; file: string; contentType: string };

/** Cloud Tasks: an HTTP task in a queue, pushed to an executor. */
export interface QueueTarget {
  kind: 'queue';
  /** Full queue path. */
  queue: string;
  /** Target URL of the tasks (the executor tier). */
  url: string;
  /** OIDC service account; undefined sends no token. */
  serviceAccount?: string;
  /** OIDC audience (default: the target URL). */
  audience?: string;
  /** `--header` values: extra HTTP headers of the task (a Content-Type here replaces the default). */
  headers: Record<string, string>;
  /** When the task is first dispatched, epoch ms; undefined = at once. */
  scheduleTime?: number;
}

/** Pub/Sub: a message published to a topic (a push subscription delivers it). */
export interface TopicTarget {
  kind: 'topic';
  /** Full topic path. */
  topic: TopicPath;
}

/** What to send, resolved from flags and environment. */
export interface SubmitOptions {
  /** Where it goes. */
  target: QueueTarget | TopicTarget;
  /** Emulator `host:port`; undefined means Google. */
  emulatorHost?: string;
  /** How many tasks or messages. */
  count: number;
  /** What each one carries. */
  payload: SubmitPayload;
  /** Print one JSON object per line instead of text. */
  json: boolean;
  /** `--wait`: follow each job to its notification, giving up `timeoutMs` after the job is due. */
  wait?: { timeoutMs: number };
}

/** One created task or published message. */
export interface Submitted {
  /** Full task name (queues). */
  task?: string;
  /** Message id (topics). */
  message?: string;
  /** The job's id, when the body names one (it is echoed in the notification). */
  jobId?: string;
  /** Where the job's notification goes, when the body says (not printed: the same for every job). */
  webhookUrl?: string;
}

/** What a body says about its job, as the executor will read it. */
interface BodyFacts {
  /** The job's id in the notification (the envelope's `id`, or the request's context id). */
  jobId?: string;
  /** Where the notification goes. */
  webhookUrl?: string;
  /** The encoding the executor sees. */
  format?: JobFormat;
  /** Why the executor would not decode it (`--body-file` only: `--file` refuses such a body). */
  undecodable?: string;
}

/** At most this many jobs are followed with --wait: the webhook keeps the last 20000 jobs' notifications. */
export const MAX_WAIT_JOBS = 10_000;

/** Default of --wait-timeout, in seconds. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 120;

const FLAGS = {
  queue: { type: 'string' },
  topic: { type: 'string' },
  project: { type: 'string' },
  location: { type: 'string' },
  url: { type: 'string' },
  emulator: { type: 'string' },
  invalid: { type: 'boolean' },
  'source-file': { type: 'string' },
  count: { type: 'string', short: 'n' },
  file: { type: 'string', short: 'f' },
  'body-file': { type: 'string' },
  'content-type': { type: 'string' },
  encoding: { type: 'string' },
  webhook: { type: 'string' },
  id: { type: 'string' },
  header: { type: 'string', multiple: true },
  'schedule-time': { type: 'string' },
  'service-account': { type: 'string' },
  'oidc-service-account-email': { type: 'string' },
  audience: { type: 'string' },
  'oidc-token-audience': { type: 'string' },
  'no-oidc': { type: 'boolean' },
  wait: { type: 'boolean' },
  'wait-timeout': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `executor submit --help`. */
export const SUBMIT_USAGE = `Usage: executor submit [options]

Sends work requests into a Cloud Tasks queue (or a Pub/Sub topic) through the official client.

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
  --body-file F             send the bytes of file F as the body exactly as they are, unchecked
                            (gcloud's --body-file): binary protobuf, or a body meant to be dead-lettered
  --content-type T          the Content-Type of a --body-file body (default application/octet-stream)

Where to send it:
  --queue Q                 queue id or full path (default incoming)
  --topic T                 publish to this Pub/Sub topic instead (id or projects/P/topics/T); the
                            message data is the same body, attributes format and jobId
  --project P               default: GOOGLE_CLOUD_PROJECT, or ${LOCAL_PROJECT} with an emulator
  --location L              default: TASKS_LOCATION, or ${LOCAL_LOCATION}
  --url URL                 the executor the task is pushed to (emulator default: http://127.0.0.1:${TIER1_PORT}/)
  --emulator HOST:PORT      use the emulator (default: CLOUD_TASKS_EMULATOR_HOST; with --topic
                            PUBSUB_EMULATOR_HOST first; unset = Google with ADC)
  --service-account EMAIL   OIDC token identity (emulator default: ${LOCAL_SERVICE_ACCOUNT});
                            gcloud's spelling --oidc-service-account-email works too
  --audience AUD            OIDC audience (default: the target URL); also --oidc-token-audience
  --no-oidc                 send no OIDC token
  --header KEY:VALUE        an HTTP header of the task (repeatable, as gcloud's --header)
  --schedule-time T         first dispatch at T: RFC 3339 (2026-12-04T10:00:00Z) or a delay (+30s, +5m, +1h)

Afterwards:
  --wait                    follow each job to its notification on the webhook the jobs notify,
                            print it; exit 0 if all succeeded, 1 if any failed or time ran out
  --wait-timeout SECONDS    give up waiting this long after the jobs are due (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})
  --json                    print one JSON line per created task (and per notification with --wait)

Examples:
  executor submit --emulator localhost:8123
  executor submit --emulator localhost:8123 --invalid --count 10 --wait
  executor submit --project my-project --location europe-west1 --url https://executor-xyz.a.run.app/ \\
    --service-account tasks@my-project.iam.gserviceaccount.com --webhook https://example.com/hook`;

const schema = z.object({
  queue: z.string().optional(),
  topic: z.string().optional(),
  project: z.string().optional(),
  location: z.string().optional(),
  url: urlFlag('url'),
  emulator: z.string().optional(),
  invalid: z.boolean().optional(),
  'source-file': z.string().min(1, '--source-file must not be empty').optional(),
  count: intFlag('count', 1, 100_000),
  file: z.string().optional(),
  'body-file': z.string().min(1, '--body-file must name a file').optional(),
  'content-type': z.string().regex(/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/, '--content-type must be a media type, e.g. application/octet-stream').optional(),
  encoding: z.enum(['binary', 'json', 'envelope'], { message: "--encoding must be 'binary', 'json' or 'envelope'" }).optional(),
  webhook: urlFlag('webhook'),
  id: z.string().regex(/^[^\s]{1,200}$/, '--id must be 1 to 200 non-space characters').optional(),
  header: z.array(z.string()).optional(),
  'schedule-time': z.string().optional(),
  'service-account': z.string().regex(/^[^@\s]+@[^@\s]+$/, '--service-account must be a service account email').optional(),
  audience: z.string().optional(),
  'no-oidc': z.boolean().optional(),
  wait: z.boolean().optional(),
  'wait-timeout': intFlag('wait-timeout', 1, 86_400),
  json: z.boolean().optional(),
  help: z.boolean().optional(),
});

/** The flags that only mean something for a Cloud Tasks task. */
const QUEUE_ONLY = ['queue', 'location', 'url', 'service-account', 'audience', 'no-oidc', 'header', 'schedule-time'] as const;

/**
 * Resolves `executor submit` flags (and CLOUD_TASKS_EMULATOR_HOST, PUBSUB_EMULATOR_HOST,
 * GOOGLE_CLOUD_PROJECT, TASKS_LOCATION from `env`) into options; `'help'` when help was asked for.
 * `now` anchors a relative --schedule-time. Throws a ConfigError naming every problem.
 */
export function parseSubmitArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, now = Date.now()): SubmitOptions | 'help' {
  const f = validateFlags('submit', schema, gcloudSpellings(parseFlags('submit', argv, FLAGS)));
  if (f.help === true) return 'help';
  const problems: string[] = [];
  const toTopic = f.topic !== undefined;

  // The project's emulator serves Cloud Tasks and Pub/Sub on one port, so either variable finds it.
  const fromEnv = (name: string): string | undefined => env[name]?.trim() || undefined;
  const emulatorHost = f.emulator ?? (toTopic ? (fromEnv('PUBSUB_EMULATOR_HOST') ?? fromEnv('CLOUD_TASKS_EMULATOR_HOST')) : fromEnv('CLOUD_TASKS_EMULATOR_HOST'));
  if (emulatorHost !== undefined) checkHostPort(emulatorHost, problems);
  const local = emulatorHost !== undefined;
  const project = f.project ?? fromEnv('GOOGLE_CLOUD_PROJECT') ?? (local ? LOCAL_PROJECT : undefined);

  let target: QueueTarget | TopicTarget | undefined;
  if (toTopic) {
    const clashing = QUEUE_ONLY.filter((k) => f[k] !== undefined);
    if (clashing.length > 0) {
      problems.push(`--topic publishes a Pub/Sub message (the push subscription decides URL and OIDC token); it cannot be combined with ${clashing.map((k) => `--${k}`).join(', ')}`);
    }
    const topic = resolveTopicPath('--topic', f.topic!, project, problems);
    if (topic !== undefined) target = { kind: 'topic', topic };
  } else {
    target = queueTarget(f, { project, location: f.location ?? fromEnv('TASKS_LOCATION') ?? (local ? LOCAL_LOCATION : undefined), local, now }, problems);
  }

  const sources = (['file', 'body-file'] as const).filter((k) => f[k] !== undefined);
  if (sources.length > 1) problems.push('--file and --body-file both give the body: give one');
  if (sources.length > 0) {
    const clashing = (['invalid', 'source-file', 'encoding', 'webhook', 'id'] as const).filter((k) => f[k] !== undefined);
    if (clashing.length > 0) problems.push(`--${sources[0]} sends the body as written; it cannot be combined with ${clashing.map((k) => `--${k}`).join(', ')}`);
  }
  if (f['content-type'] !== undefined && f['body-file'] === undefined) {
    problems.push("--content-type labels a --body-file body; the other bodies are labelled by their encoding (--header 'Content-Type:…' overrides any label)");
  }
  if (f['content-type'] !== undefined && target?.kind === 'queue' && hasHeader(target.headers, 'content-type')) {
    problems.push("--content-type and --header 'Content-Type:…' both set the Content-Type: give one");
  }
  if (f.invalid === true && f['source-file'] !== undefined) problems.push('--invalid and --source-file both set the sourceFile: give one');

  const webhookUrl = f.webhook ?? (local ? `http://127.0.0.1:${WEBHOOK_PORT}${WEBHOOK_PATH}` : undefined);
  const count = f.count ?? 1;
  if (f.wait === true) {
    if (sources.length > 0 && count > 1) {
      problems.push(`--wait with --${sources[0]} and --count: every copy carries the same job id, so their notifications cannot be told apart; send one, or generate requests (--count without --${sources[0]})`);
    }
    if (sources.length === 0 && webhookUrl === undefined) {
      problems.push("--wait follows the jobs on the webhook they notify: pass --webhook URL (a receiver that serves GET /notifications, as 'executor dev --webhook-only' does)");
    }
    if (count > MAX_WAIT_JOBS) problems.push(`--wait follows at most ${MAX_WAIT_JOBS} jobs (the webhook keeps the last 20000 jobs' notifications); got --count ${count}`);
  } else if (f['wait-timeout'] !== undefined) {
    problems.push('--wait-timeout only applies with --wait');
  }

  if (problems.length > 0 || target === undefined) {
    throw new ConfigError('CLI_ARGS_INVALID', problems, 'Invalid arguments for executor submit');
  }

  let payload: SubmitPayload;
  if (f.file !== undefined) payload = { kind: 'file', file: f.file };
  else if (f['body-file'] !== undefined) payload = { kind: 'raw', file: f['body-file'], contentType: f['content-type'] ?? 'application/octet-stream' };
  else {
    payload = {
      kind: 'request',
      encoding: f.encoding ?? 'binary',
      sourceFile: f.invalid === true ? INVALID_SOURCE_FILE : (f['source-file'] ?? GOOD_SOURCE_FILE),
      ...(webhookUrl !== undefined ? { webhookUrl } : {}),
      ...(f.id !== undefined ? { idPrefix: f.id } : {}),
    };
  }
  return {
    target,
    ...(emulatorHost !== undefined ? { emulatorHost } : {}),
    count,
    payload,
    json: f.json === true,
    ...(f.wait === true ? { wait: { timeoutMs: (f['wait-timeout'] ?? DEFAULT_WAIT_TIMEOUT_SECONDS) * 1000 } } : {}),
  };
}

type SubmitFlags = z.output<typeof schema>;

/** The Cloud Tasks side of the flags: queue path, target URL, OIDC token, headers, schedule time. */
function queueTarget(f: SubmitFlags, at: { project: string | undefined; location: string | undefined; local: boolean; now: number }, problems: string[]): QueueTarget | undefined {
  const queueName = f.queue ?? 'incoming';
  let queue: string | undefined;
  if (!queueName.startsWith('projects/') && (at.project === undefined || at.location === undefined)) {
    const missing = [at.project === undefined ? '--project (or GOOGLE_CLOUD_PROJECT)' : '', at.location === undefined ? '--location (or TASKS_LOCATION)' : ''].filter((m) => m !== '');
    problems.push(`--queue '${queueName}' is a short id: pass ${missing.join(' and ')}, a full queue path, or --emulator host:port to use a local emulator`);
  } else {
    queue = resolveQueuePath('--queue', queueName, at.project, at.location, problems, '--location');
  }

  const url = f.url ?? (at.local ? `http://127.0.0.1:${TIER1_PORT}/` : undefined);
  if (url === undefined) problems.push('--url is required with Google Cloud Tasks: the URL of the executor the task is pushed to');
  if (f['no-oidc'] === true && (f['service-account'] !== undefined || f.audience !== undefined)) {
    problems.push('--no-oidc cannot be combined with --service-account or --audience');
  }
  const serviceAccount = f['no-oidc'] === true ? undefined : (f['service-account'] ?? (at.local ? LOCAL_SERVICE_ACCOUNT : undefined));
  const headers = parseHeaders(f.header ?? [], problems);
  if (serviceAccount !== undefined && hasHeader(headers, 'authorization')) {
    problems.push('--header Authorization: the task carries an OIDC token, which Cloud Tasks sends as Authorization; pass --no-oidc to send your own');
  }
  const scheduleTime = f['schedule-time'] !== undefined ? parseScheduleTime(f['schedule-time'], at.now, problems) : undefined;
  if (queue === undefined || url === undefined) return undefined;
  return {
    kind: 'queue',
    queue,
    url,
    ...(serviceAccount !== undefined ? { serviceAccount } : {}),
    ...(f.audience !== undefined ? { audience: f.audience } : {}),
    headers,
    ...(scheduleTime !== undefined ? { scheduleTime } : {}),
  };
}

/** Whether `headers` has `name` (case-insensitively, as HTTP compares). */
function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
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

/** What the executor will read from a body it decodes. */
function factsOf(decoded: DecodedBody): BodyFacts {
  const ctx = decoded.context as { id?: unknown } | undefined;
  const jobId = decoded.id ?? (typeof ctx?.id === 'string' && ctx.id !== '' ? ctx.id : undefined);
  return {
    format: decoded.job.format,
    ...(jobId !== undefined ? { jobId } : {}),
    ...(decoded.job.webhookUrl !== undefined ? { webhookUrl: decoded.job.webhookUrl } : {}),
  };
}

/**
 * Reads a JSON body file and checks it with the executor's own decoder, so a body the executor
 * would dead-letter is refused here, before anything is enqueued; sent re-serialised compactly.
 */
async function readEnvelope(file: string): Promise<{ body: Buffer; facts: BodyFacts }> {
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
    return { body, facts: factsOf(decodeBody(body)) };
  } catch (err) {
    if (!(err instanceof UndecodableBodyError)) throw err;
    throw new CodedError('ENVELOPE_INVALID', `${file} is not a body the executor accepts, so nothing was enqueued: ${err.message}`, { cause: err });
  }
}

/** Reads a `--body-file` as bytes; what the executor will make of it is noted, never enforced. */
async function readRawBody(file: string): Promise<{ body: Buffer; facts: BodyFacts }> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (err) {
    throw new CodedError('BODY_FILE_UNREADABLE', `Cannot read body file ${file}: ${messageOf(err)}`, { cause: err });
  }
  try {
    return { body, facts: factsOf(decodeBody(body)) };
  } catch (err) {
    if (!(err instanceof UndecodableBodyError)) throw err;
    return { body, facts: { undecodable: err.message } };
  }
}

/** Context id of the i-th (0-based) request. */
function jobIdFor(prefix: string | undefined, i: number, count: number): string {
  if (prefix === undefined) return `job-${randomUUID()}`;
  return count === 1 ? prefix : `${prefix}-${i + 1}`;
}

/** The encoding the executor sees for a generated request. */
const FORMAT_OF: Record<RequestEncoding, JobFormat> = { binary: 'proto-binary', json: 'proto-json', envelope: 'envelope' };

/** One body to send, and what the executor will read from it. */
interface Body {
  body: Buffer;
  contentType: string;
  facts: BodyFacts;
}

/** Builds the i-th body: a fresh request, or the file's body (the same for every copy). */
type BodyMaker = (i: number) => Body;

async function bodiesOf(options: SubmitOptions): Promise<BodyMaker> {
  const p = options.payload;
  if (p.kind === 'file') {
    const { body, facts } = await readEnvelope(p.file);
    return () => ({ body, contentType: 'application/json', facts });
  }
  if (p.kind === 'raw') {
    const { body, facts } = await readRawBody(p.file);
    return () => ({ body, contentType: p.contentType, facts });
  }
  return (i) => {
    const jobId = jobIdFor(p.idPrefix, i, options.count);
    return {
      body: encodeRequest({ sourceFile: p.sourceFile, ...(p.webhookUrl !== undefined ? { webhookUrl: p.webhookUrl } : {}), context: { id: jobId } }, p.encoding),
      contentType: contentTypeOf(p.encoding),
      facts: { jobId, format: FORMAT_OF[p.encoding], ...(p.webhookUrl !== undefined ? { webhookUrl: p.webhookUrl } : {}) },
    };
  };
}

/**
 * With --wait, a body must lead to a notification that can be told apart: decodable, naming its
 * job and its webhook. Checked before anything is sent, so --wait never waits for the impossible.
 */
function checkWaitable(facts: BodyFacts, source: string): void {
  const no = (why: string): never => {
    throw new CodedError('SUBMIT_WAIT_IMPOSSIBLE', `--wait cannot follow ${source}: ${why}. Nothing was sent.`);
  };
  if (facts.undecodable !== undefined) no(`the executor does not decode it (${facts.undecodable}), so it is dead-lettered and no notification comes`);
  if (facts.webhookUrl === undefined) no('it names no webhookUrl, so its notification goes to the tier\'s NOTIFY_URL, if it has one (the local stack\'s tiers have none); add a "webhookUrl"');
  if (facts.jobId === undefined) no('it names no job id, so its notification cannot be told from others; add an "id" (envelope) or "context": {"id": …} (SvcWorkRequest)');
}

/** How `submit` sends: a Cloud Tasks client for queues, a publish operation for topics. */
export type SubmitVia = { tasks: TasksApi } | { publish: PublishMessage };

/** One send: creates the task or publishes the message for a body. */
type Send = (b: Body) => Promise<Pick<Submitted, 'task' | 'message'>>;

function senderOf(options: SubmitOptions, via: SubmitVia): Send {
  const endpoint = options.emulatorHost !== undefined ? { emulatorHost: options.emulatorHost } : {};
  const target = options.target;
  if (target.kind === 'topic') {
    if (!('publish' in via)) throw new Error('submit to a topic needs a publish operation');
    const { publish } = via;
    return async (b) => {
      const attributes: Record<string, string> = {
        ...(b.facts.format !== undefined ? { format: b.facts.format } : {}),
        ...(b.facts.jobId !== undefined ? { jobId: b.facts.jobId } : {}),
      };
      return { message: await publish({ topic: target.topic, data: b.body, attributes }) };
    };
  }
  if (!('tasks' in via)) throw new Error('submit to a queue needs a Cloud Tasks client');
  const createTask = makeCreateTask(via.tasks, { timeoutMs: SUBMIT_TIMEOUT_MS, explain: endpoint });
  // A Content-Type given with --header replaces the encoding's label.
  const ownType = Object.keys(target.headers).some((k) => k.toLowerCase() === 'content-type');
  return async (b) => {
    const { name } = await createTask({
      queue: target.queue,
      url: target.url,
      body: b.body,
      headers: { ...(ownType ? {} : { 'Content-Type': b.contentType }), ...target.headers },
      ...(target.serviceAccount !== undefined ? { serviceAccount: target.serviceAccount } : {}),
      ...(target.audience !== undefined ? { audience: target.audience } : {}),
      ...(target.scheduleTime !== undefined ? { scheduleTime: target.scheduleTime } : {}),
    });
    return { task: name };
  };
}

/**
 * Creates the tasks (or publishes the messages); calls `onCreated` as each one is accepted. Stops
 * at the first error (already created tasks stay: they are real work). With `options.wait`, a body
 * that --wait could not follow is refused before anything is sent.
 */
export async function submit(options: SubmitOptions, via: SubmitVia, onCreated?: (s: Submitted) => void): Promise<Submitted[]> {
  const bodyAt = await bodiesOf(options);
  if (options.wait !== undefined && options.payload.kind !== 'request') checkWaitable(bodyAt(0).facts, options.payload.file);
  const send = senderOf(options, via);
  const created: Submitted[] = [];
  let next = 0;
  let failure: unknown;
  // A few requests in flight: fast for --count, gentle on a real quota.
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < options.count) {
      const b = bodyAt(next++);
      try {
        const s: Submitted = {
          ...(await send(b)),
          ...(b.facts.jobId !== undefined ? { jobId: b.facts.jobId } : {}),
          ...(b.facts.webhookUrl !== undefined ? { webhookUrl: b.facts.webhookUrl } : {}),
        };
        created.push(s);
        onCreated?.(s);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, options.count) }, () => worker()));
  if (failure !== undefined) {
    const what = options.target.kind === 'topic' ? 'messages were published' : 'tasks were created';
    if (created.length > 0 && failure instanceof CodedError) {
      throw new CodedError(failure.code, `${failure.message}\n(${created.length} of ${options.count} ${what} before the failure)`, { cause: failure });
    }
    throw failure instanceof Error ? failure : new Error(`Submitting failed: ${JSON.stringify(failure)}`);
  }
  return created;
}

/** One notification for people: a line, then the body as received, indented. */
export function formatNotified(n: JobNotification): string {
  const facts = [
    n.tier !== undefined ? `tier ${n.tier}` : '',
    n.attempts !== undefined ? `${n.attempts} attempt${n.attempts === 1 ? '' : 's'}` : '',
    n.format,
    n.notifications > 1 ? `${n.notifications} notifications` : '',
  ].filter((x) => x !== '');
  const head = `job ${n.jobId} ${n.outcome} (${facts.join(', ')})${n.error !== undefined ? `: ${n.error}` : ''}`;
  return `${head}\n${n.body.replace(/^/gm, '  ')}`;
}

/**
 * Follows the created jobs to their notifications, printing each as it arrives. Resolves with
 * whether every job succeeded; throws SUBMIT_WAIT_TIMEOUT naming the jobs still missing.
 */
export async function waitForJobs(
  options: SubmitOptions & { wait: { timeoutMs: number } },
  created: readonly Submitted[],
  webhookUrl: string,
  out: (line: string) => void,
): Promise<boolean> {
  const jobIds = created.map((c) => c.jobId).filter((id): id is string => id !== undefined);
  const due = options.target.kind === 'queue' && options.target.scheduleTime !== undefined ? Math.max(Date.now(), options.target.scheduleTime) : Date.now();
  const { notified, missing } = await followJobs({
    webhookUrl,
    jobIds,
    deadline: due + options.wait.timeoutMs,
    onNotified: (n) => out(options.json ? JSON.stringify(n) : formatNotified(n)),
  });
  const failed = notified.filter((n) => n.outcome === 'failed').length;
  if (!options.json && jobIds.length > 1) out(`${notified.length} of ${jobIds.length} jobs notified: ${notified.length - failed} succeeded, ${failed} failed`);
  if (missing.length > 0) {
    const sample = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ', …' : '');
    throw new CodedError(
      'SUBMIT_WAIT_TIMEOUT',
      `No notification within ${options.wait.timeoutMs / 1000} s for ${missing.length} of ${jobIds.length} jobs (${sample}): they may still be retrying — see the queue's tasks (the emulator dashboard, or gcloud tasks list) and the tier's log; pass a longer --wait-timeout to wait more`,
    );
  }
  return failed === 0;
}

/** Entry point of `executor submit`. */
export async function runSubmit(argv: string[]): Promise<void> {
  const options = parseSubmitArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${SUBMIT_USAGE}\n`);
    return;
  }
  const target = options.target;
  if (target.kind === 'queue' && target.serviceAccount === undefined && options.emulatorHost === undefined) {
    process.stderr.write('executor submit: no --service-account: the tasks carry no OIDC token, so an executor with inbound auth (the default) will refuse them\n');
  }
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  let client: { close(): Promise<void> };
  let via: SubmitVia;
  if (target.kind === 'topic') {
    // Loaded only here: a queue submit never pays for the Pub/Sub client.
    const { makePublishMessage, newPubSubClient } = await import('../queues/publish-message.js');
    const pubsub = newPubSubClient(options.emulatorHost, target.topic.split('/')[1]!);
    const explain = options.emulatorHost !== undefined ? { emulatorHost: options.emulatorHost } : {};
    client = pubsub;
    via = { publish: makePublishMessage(pubsub, { timeoutMs: SUBMIT_TIMEOUT_MS, explain }) };
  } else {
    const tasks = newTasksClient(options.emulatorHost);
    client = tasks;
    via = { tasks };
  }
  let created: Submitted[];
  try {
    created = await submit(options, via, (s) => {
      if (options.json) out(JSON.stringify({ ...(s.task !== undefined ? { task: s.task } : { topic: (target as TopicTarget).topic, message: s.message }), ...(s.jobId !== undefined ? { jobId: s.jobId } : {}) }));
      else if (s.task !== undefined) out(`created ${s.task}${s.jobId !== undefined ? `  (job ${s.jobId})` : ''}`);
      else out(`published message ${s.message ?? '?'} to ${(target as TopicTarget).topic}${s.jobId !== undefined ? `  (job ${s.jobId})` : ''}`);
    });
  } finally {
    await client.close();
  }
  if (!options.json && created.length > 1) out(`${created.length} ${target.kind === 'topic' ? `messages published to ${target.topic}` : `tasks created in ${target.queue}`}`);
  // parseSubmitArgs and submit made sure every job names its webhook when --wait is set.
  const webhookUrl = created[0]?.webhookUrl;
  if (options.wait === undefined || webhookUrl === undefined) return;
  const allSucceeded = await waitForJobs({ ...options, wait: options.wait }, created, webhookUrl, out);
  if (!allSucceeded) process.exitCode = 1;
}
