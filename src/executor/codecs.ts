/**
 * Push bodies in, notification bodies out. Four input formats, told apart by content (never by
 * Content-Type, which the original client set to `application/json` on binary bodies):
 *
 * - the JSON envelope: a JSON object with a `payload` key (see docs/executor.md);
 * - a Firebase task-queue body: a JSON object whose only key is `data` (firebase-admin's
 *   `getFunctions().taskQueue(…).enqueue(data)` sends `{"data": …}`); the job's payload is `data`;
 * - the proto3 JSON mapping of `SvcWorkRequest`: any other JSON object;
 * - a binary `SvcWorkRequest`: anything that is not JSON.
 *
 * Binary protobuf accepts almost any bytes, so the binary decoder walks the wire format itself and
 * accepts only the fields and wire types `SvcWorkRequest` defines, with valid UTF-8 strings and a
 * non-empty `sourceFile`. A JSON body can never pass that walk (`{` is field 15, which does not
 * exist), so the two never overlap, and garbage fails both with a reason.
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { CodedError, formatIssues, messageOf } from '../errors.js';
import type { Job, JobFormat, WorkError } from '../work/types.js';
import type { Hop } from './delivery.js';
import { WORK_REQUEST, readMessage, workProtoTypes } from './work-proto.js';


/** A decoded push body: the job for the runner, and what its notification must echo. */
export interface DecodedBody {
  /** What the runner receives. */
  job: Job;
  /** Echoed in the notification: the request's `Context` message, or the envelope's `context`. */
  context?: unknown;
  /** The envelope's `id`, echoed in its notification. */
  id?: string;
}

/** Raised when a body is none of the accepted formats; the message says why, never quoting it. */
export class UndecodableBodyError extends CodedError {
  constructor(message: string) {
    super('BODY_UNDECODABLE', message);
    this.name = 'UndecodableBodyError';
  }
}

function isHttpUrl(v: string): boolean {
  return /^https?:\/\/[^\s/]/.test(v) && URL.canParse(v);
}


function decodeBinary(body: Buffer): DecodedBody {
  let plain: Record<string, unknown>;
  try {
    plain = readMessage(body, WORK_REQUEST);
  } catch (err) {
    // protobufjs reports truncation as a RangeError ("index out of range").
    const reason = err instanceof RangeError ? 'truncated protobuf' : messageOf(err);
    throw new UndecodableBodyError(`Body is not JSON and not a binary SvcWorkRequest: ${reason}`);
  }
  return fromRequest('proto-binary', plain);
}

function fromRequest(format: JobFormat, plain: Record<string, unknown>): DecodedBody {
  const sourceFile = plain.sourceFile;
  if (typeof sourceFile !== 'string' || sourceFile === '') {
    throw new UndecodableBodyError(`${format === 'proto-binary' ? 'Binary' : 'JSON'} SvcWorkRequest has no sourceFile`);
  }
  const webhookUrl = typeof plain.webhookUrl === 'string' && plain.webhookUrl !== '' ? plain.webhookUrl : undefined;
  if (webhookUrl !== undefined && !isHttpUrl(webhookUrl)) {
    throw new UndecodableBodyError('SvcWorkRequest.webhookUrl is not an http(s) URL');
  }
  const payload: Record<string, unknown> = { sourceFile };
  if (webhookUrl !== undefined) payload.webhookUrl = webhookUrl;
  if (plain.fileMetadata != null) payload.fileMetadata = plain.fileMetadata;
  if (plain.context != null) payload.context = plain.context;
  return {
    job: { format, payload, ...(webhookUrl !== undefined ? { webhookUrl } : {}) },
    ...(plain.context != null ? { context: plain.context } : {}),
  };
}

// --- JSON formats ----------------------------------------------------------------------------

/** The int64 range: proto3 JSON carries int64 as a decimal string; larger values must not wrap. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_TEXT = /^-?\d{1,19}$/;
const int64 = z.union([
  // A JSON number is exact only up to 2^53; a larger one has already lost its digits.
  z.number().int().refine(Number.isSafeInteger, 'must be an integer within ±2^53 (send larger int64 values as a decimal string)'),
  z
    .string()
    .regex(INT64_TEXT, 'must be a decimal integer')
    // zod runs refinements after a failed regex too: only a decimal string is converted.
    .refine((v) => !INT64_TEXT.test(v) || (BigInt(v) >= INT64_MIN && BigInt(v) <= INT64_MAX), 'is outside the int64 range'),
]);
const protoJsonRequest = z
  .object({
    sourceFile: z.string().nullish(),
    webhookUrl: z.string().nullish(),
    fileMetadata: z
      .object({ mimetype: z.string().nullish(), md5: z.string().nullish(), size: int64.nullish() })
      .strict()
      .nullish(),
    context: z.object({ id: z.string().nullish() }).strict().nullish(),
  })
  .strict();

/** The generic JSON envelope. */
const envelopeSchema = z
  .object({
    /** The work itself, any JSON value. */
    payload: z.unknown(),
    /** Where the notification goes. */
    webhookUrl: z.string().refine(isHttpUrl, 'must be an http(s) URL').optional(),
    /** Echoed in the notification. */
    context: z.unknown().optional(),
    /** Caller's id for the job, echoed in the notification. */
    id: z.string().min(1).max(500).optional(),
  })
  .strict();

/** The JSON envelope a client sends (documented in docs/executor.md). */
export type Envelope = z.infer<typeof envelopeSchema>;

/**
 * The first few problems, on one line (a body can be wrong in many ways at once). Unknown keys are
 * counted, not named: a key is the caller's input, and bodies are never quoted.
 */
function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((issue) =>
    issue.code === 'unrecognized_keys' ? { ...issue, code: 'custom' as const, message: `${issue.keys.length} unknown field(s)` } : issue,
  );
  return formatIssues(issues).join('; ');
}

/** Deepest nesting of arrays and objects a JSON body may have: deeper bodies are undecodable. */
export const MAX_JSON_DEPTH = 64;

/**
 * Offset of the first bracket that nests deeper than `limit`, or -1. A scan, not a parse: it runs
 * before JSON.parse so that nothing downstream (zod, JSON.stringify of the notification) ever sees
 * a body deep enough to exhaust the stack.
 */
export function tooDeepAt(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

/**
 * What is wrong with unparsable JSON, by kind and position only: Node's messages quote the text
 * around the error (or a whole short body), and bodies are never quoted.
 */
export function describeSyntaxError(err: unknown): string {
  const message = messageOf(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  const kind = /Unexpected end|Unterminated/.test(message)
    ? 'unexpected end of input'
    : /Bad control character/.test(message)
      ? 'unescaped control character in a string'
      : /Bad (escaped character|Unicode escape)/.test(message)
        ? 'invalid escape in a string'
        : 'unexpected character';
  return position !== undefined ? `${kind} at character ${position} of the JSON text` : kind;
}

/**
 * firebase-admin's task-queue body: `{"data": …}` and nothing else (a SvcWorkRequest has no `data`
 * field and the envelope needs `payload`, so no other format is taken for it).
 */
function isFirebaseTaskBody(parsed: object): parsed is { data: unknown } {
  const keys = Object.keys(parsed);
  return keys.length === 1 && keys[0] === 'data';
}

function decodeJson(text: string): DecodedBody {
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== -1) throw new UndecodableBodyError(`JSON body nests deeper than ${MAX_JSON_DEPTH} levels (at character ${deep})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UndecodableBodyError(`Body looks like JSON but does not parse: ${describeSyntaxError(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UndecodableBodyError('JSON body must be an object (the envelope, a Firebase {"data": …} body or a SvcWorkRequest)');
  }
  if (isFirebaseTaskBody(parsed)) return { job: { format: 'firebase', payload: parsed.data } };
  if (Object.prototype.hasOwnProperty.call(parsed, 'payload')) {
    const envelope = envelopeSchema.safeParse(parsed);
    if (!envelope.success) throw new UndecodableBodyError(`Invalid JSON envelope: ${describeIssues(envelope.error)}`);
    const e = envelope.data;
    if (e.payload === undefined) throw new UndecodableBodyError('Invalid JSON envelope: payload is required');
    return {
      job: { format: 'envelope', payload: e.payload, ...(e.webhookUrl !== undefined ? { webhookUrl: e.webhookUrl } : {}) },
      ...(e.context !== undefined ? { context: e.context } : {}),
      ...(e.id !== undefined ? { id: e.id } : {}),
    };
  }
  const request = protoJsonRequest.safeParse(parsed);
  if (!request.success) {
    throw new UndecodableBodyError(
      `JSON body is neither an envelope (no "payload" key) nor a SvcWorkRequest: ${describeIssues(request.error)}`,
    );
  }
  // Round-trip through protobufjs so the payload has the canonical proto3 JSON shape the binary
  // format produces (int64 as string, defaults omitted).
  const { request: type } = workProtoTypes();
  const plain = type.toObject(type.fromObject(request.data), { longs: String, defaults: false }) as Record<string, unknown>;
  return fromRequest('proto-json', plain);
}

/** True for the bytes JSON allows before a value: space, tab, line feed, carriage return. */
function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Offset of the `{` a JSON object body starts with (after an optional UTF-8 BOM and whitespace),
 * or -1. Looking at bytes first means a binary body (the original client's, not UTF-8) is never
 * run through a UTF-8 decoder, which used to cost an exception per push.
 */
export function jsonObjectStart(body: Buffer): number {
  let i = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (i < body.length && isJsonSpace(body[i]!)) i++;
  return i < body.length && body[i] === 0x7b ? i : -1;
}

/** Decodes a push body. Throws {@link UndecodableBodyError} for anything it does not accept. */
export function decodeBody(body: Buffer): DecodedBody {
  if (body.length === 0) throw new UndecodableBodyError('Body is empty');
  const start = jsonObjectStart(body);
  // A body that starts like a JSON object but is not valid UTF-8 is not JSON; it fails the binary
  // walk too (`{` is field 15, which does not exist) and is reported as such.
  if (start !== -1 && isUtf8(body)) return decodeJson(body.toString('utf8', start));
  return decodeBinary(body);
}

// --- notifications ---------------------------------------------------------------------------

/** What a notification reports. */
export interface NotificationFacts {
  /** How the job ended. */
  outcome: 'succeeded' | 'failed';
  /** Why it failed. */
  error?: WorkError;
  /** The work's result (JSON envelope notifications only). */
  result?: unknown;
  /** Tier that sends the notification. */
  tier: number;
  /** Every tier passed, this one last, with the attempts spent in each. */
  path: Hop[];
  /** The task that ended, on this tier. */
  task?: { queue?: string; name?: string };
  /** `queue/task` at the first tier. */
  origin?: string;
  /** Scheduled time of the final delivery. */
  scheduledAt?: Date;
  /** When this executor decided the outcome. */
  completedAt: Date;
}

/** The JSON notification sent for envelope jobs. */
export interface EnvelopeNotification {
  /** The envelope's `id`, when it had one. */
  id?: string;
  /** The envelope's `context`, when it had one. */
  context?: unknown;
  /** `succeeded` or `failed`. */
  outcome: 'succeeded' | 'failed';
  /** The handler's result, on success (omitted when larger than {@link MAX_RESULT_BYTES}). */
  result?: unknown;
  /** Set when the result was too large to carry. */
  resultOmitted?: string;
  /** Why it failed, on failure. */
  error?: WorkError;
  /** Tier that sent the notification (1 = first). */
  tier: number;
  /** Attempts spent across all tiers. */
  attempts: number;
  /** Per tier, oldest first: its number, queue and attempts spent. */
  path: { tier: number; queue: string; attempts: number }[];
  /** The final task: queue and name on the tier that finished it; origin at the first tier. */
  task: { queue?: string; name?: string; origin?: string };
  /** ISO timestamps: when the final delivery was scheduled, and when the outcome was decided. */
  timestamps: { scheduledAt?: string; completedAt: string };
}

/** Results larger than this are left out of notifications (a task body is capped at 1 MB). */
export const MAX_RESULT_BYTES = 256 * 1024;

/** An encoded notification body. */
export interface EncodedNotification {
  body: Buffer;
  contentType: string;
}

/** Encodes the notification for a job, in the format the job arrived in. */
export function encodeNotification(decoded: DecodedBody, facts: NotificationFacts): EncodedNotification {
  const { format } = decoded.job;
  // Firebase bodies carry no webhook of their own; a notification (none unless one is configured)
  // is the JSON one.
  if (format === 'envelope' || format === 'firebase') {
    return { body: Buffer.from(JSON.stringify(envelopeNotification(decoded, facts))), contentType: 'application/json' };
  }
  const { response } = workProtoTypes();
  const message = response.fromObject({
    ...(decoded.context != null ? { context: decoded.context } : {}),
    ...(facts.outcome === 'failed' ? { error: facts.error ?? { type: 'Error', message: 'failed' } } : {}),
  });
  if (format === 'proto-json') {
    return { body: Buffer.from(JSON.stringify(response.toObject(message, { longs: String, defaults: false }))), contentType: 'application/json' };
  }
  return { body: Buffer.from(response.encode(message).finish()), contentType: 'application/x-protobuf' };
}

function envelopeNotification(decoded: DecodedBody, facts: NotificationFacts): EnvelopeNotification {
  const n: EnvelopeNotification = {
    ...(decoded.id !== undefined ? { id: decoded.id } : {}),
    ...(decoded.context !== undefined ? { context: decoded.context } : {}),
    outcome: facts.outcome,
    tier: facts.tier,
    attempts: facts.path.reduce((sum, h) => sum + h.attempts, 0),
    path: facts.path.map((h, i) => ({ tier: i + 1, queue: h.queue, attempts: h.attempts })),
    task: {
      ...(facts.task?.queue !== undefined ? { queue: facts.task.queue } : {}),
      ...(facts.task?.name !== undefined ? { name: facts.task.name } : {}),
      ...(facts.origin !== undefined ? { origin: facts.origin } : {}),
    },
    timestamps: {
      ...(facts.scheduledAt !== undefined ? { scheduledAt: facts.scheduledAt.toISOString() } : {}),
      completedAt: facts.completedAt.toISOString(),
    },
  };
  if (facts.outcome === 'failed') n.error = facts.error ?? { type: 'Error', message: 'failed' };
  if (facts.outcome === 'succeeded' && facts.result !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(facts.result);
    } catch {
      n.resultOmitted = 'result is not JSON-serialisable';
    }
    if (json !== undefined) {
      if (Buffer.byteLength(json) > MAX_RESULT_BYTES) n.resultOmitted = `result is larger than ${MAX_RESULT_BYTES} bytes`;
      else n.result = JSON.parse(json) as unknown;
    }
  }
  return n;
}

/** The outcome message of a dead-lettered (undecodable) push on NOTIFY_TOPIC: no job to echo, only what happened. */
export interface DeadLetterNotice {
  outcome: 'dead-lettered';
  /** Why the body could not be decoded. */
  error: WorkError;
  /** Tier that dead-lettered it. */
  tier: number;
  /** The task (or message) that carried it: queue (or subscription) and name, origin at the first tier. */
  task: { queue?: string; name?: string; origin?: string };
  timestamps: { completedAt: string };
}

/** Encodes the outcome message of a dead letter (always JSON: the body's own format is unknown). */
export function encodeDeadLetterNotice(notice: DeadLetterNotice): EncodedNotification {
  return { body: Buffer.from(JSON.stringify(notice)), contentType: 'application/json' };
}
