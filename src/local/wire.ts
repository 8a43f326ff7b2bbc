/**
 * The original wire format as the local stack's clients speak it: building SvcWorkRequest bodies
 * (what `executor submit` and the demo batch send) and reading SvcWorkResponse / envelope
 * notifications (what the webhook receives).
 */
import { z } from 'zod';
import { formatIssues } from '../errors.js';
import { WORK_RESPONSE, readMessage, workProtoTypes } from '../executor/work-proto.js';
import type { JobFormat, WorkError } from '../work/types.js';
import type { Outcome } from './tally.js';

/** A work request in proto3 JSON field names. */
export interface WorkRequest {
  /** What to work on; the demo worker fails on `"invalid"`. */
  sourceFile: string;
  /** Where the notification goes. */
  webhookUrl?: string;
  /** Optional metadata of the source file. */
  fileMetadata?: { mimetype?: string; md5?: string; size?: number | string };
  /** Echoed back in the notification. */
  context?: { id?: string };
}

/**
 * Encodings a client can send: a binary SvcWorkRequest (the original client's), its proto3 JSON
 * mapping, or the JSON envelope (`{ payload, webhookUrl, id }`, payload = the request's fields).
 */
export type RequestEncoding = 'binary' | 'json' | 'envelope';

/** Encodes a work request as a binary SvcWorkRequest, its proto3 JSON mapping, or a JSON envelope. */
export function encodeRequest(request: WorkRequest, encoding: RequestEncoding): Buffer {
  if (encoding === 'envelope') {
    const { webhookUrl, context, ...payload } = request;
    return Buffer.from(
      JSON.stringify({ payload, ...(webhookUrl !== undefined ? { webhookUrl } : {}), ...(context?.id !== undefined ? { id: context.id } : {}) }),
    );
  }
  const { request: type } = workProtoTypes();
  const message = type.fromObject(request);
  if (encoding === 'json') return Buffer.from(JSON.stringify(type.toObject(message, { longs: String, defaults: false })));
  return Buffer.from(type.encode(message).finish());
}

/** The content type `executor submit` labels each encoding with. */
export function contentTypeOf(encoding: RequestEncoding): string {
  return encoding === 'binary' ? 'application/x-protobuf' : 'application/json';
}

/** What a notification says, whichever encoding it came in. */
export interface ResponseFacts {
  /** Encoding. */
  format: JobFormat;
  /** Context id of the job. */
  jobId?: string;
  /** Success or failure. */
  outcome: Outcome;
  /** Failure detail. */
  error?: WorkError;
  /** Tier that sent it, when said. */
  tier?: number;
  /** Attempts across tiers, when said. */
  attempts?: number;
}

// --- notifications -----------------------------------------------------------------------------

const workErrorSchema = z.object({ type: z.string().nullish(), message: z.string().nullish() }).strict();

/** The proto3 JSON mapping of SvcWorkResponse: nothing but its two fields. */
const responseJson = z
  .object({
    context: z.object({ id: z.string().nullish() }).strict().nullish(),
    error: workErrorSchema.nullish(),
  })
  .strict();

/** The executor's EnvelopeNotification (src/executor/codecs.ts), the fields the webhook reads. */
const envelopeNotification = z.looseObject({
  id: z.string().optional(),
  context: z.unknown().optional(),
  outcome: z.enum(['succeeded', 'failed']),
  error: workErrorSchema.optional(),
  tier: z.number().int().positive().optional(),
  attempts: z.number().int().nonnegative().optional(),
});

function toWorkError(e: z.infer<typeof workErrorSchema> | null | undefined): WorkError | undefined {
  return e == null ? undefined : { type: e.type ?? '', message: e.message ?? '' };
}

/** The first few problems, on one line. */
function issues(error: z.ZodError): string {
  return formatIssues(error.issues.slice(0, 3)).join('; ');
}

/** Reads a notification body; throws on anything that is neither a SvcWorkResponse nor an envelope notification. */
export function decodeResponse(body: Buffer): ResponseFacts {
  const text = body.toString('utf8').trimStart();
  if (text.startsWith('{')) {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'outcome' in parsed) {
      const n = envelopeNotification.safeParse(parsed);
      if (!n.success) throw new Error(`invalid envelope notification: ${issues(n.error)}`);
      const { id, context, outcome, tier, attempts } = n.data;
      const ctxId = typeof context === 'object' && context !== null && typeof (context as { id?: unknown }).id === 'string' ? (context as { id: string }).id : undefined;
      const jobId = id ?? ctxId;
      const error = toWorkError(n.data.error);
      return {
        format: 'envelope',
        outcome,
        ...(jobId !== undefined ? { jobId } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(tier !== undefined ? { tier } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
      };
    }
    const r = responseJson.safeParse(parsed);
    if (!r.success) throw new Error(`JSON body is neither an envelope notification (no "outcome") nor a SvcWorkResponse: ${issues(r.error)}`);
    return facts('proto-json', r.data.context?.id ?? undefined, toWorkError(r.data.error));
  }
  try {
    readMessage(body, WORK_RESPONSE);
  } catch (err) {
    throw err instanceof RangeError ? new Error('truncated protobuf') : err;
  }
  const { response } = workProtoTypes();
  const plain = response.toObject(response.decode(body)) as { context?: { id?: string }; error?: { type?: string; message?: string } };
  return facts('proto-binary', plain.context?.id, toWorkError(plain.error));
}

function facts(format: JobFormat, jobId: string | undefined, error: WorkError | undefined): ResponseFacts {
  return {
    format,
    outcome: error !== undefined ? 'failed' : 'succeeded',
    ...(jobId !== undefined && jobId !== '' ? { jobId } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
