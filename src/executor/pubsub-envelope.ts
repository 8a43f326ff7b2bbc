/**
 * Recognises a Pub/Sub push (the wrapped envelope: a JSON object with `message` and
 * `subscription`) and unwraps it: the job is `message.data` (base64), decoded afterwards by the
 * codecs like any Cloud Tasks body; the message's facts (subscription, id, attributes,
 * deliveryAttempt) go to the delivery and the run context. Pure: bytes in, a verdict out.
 *
 * No valid job body of the other formats is an object with both keys (the JSON envelope needs
 * `payload`, a SvcWorkRequest allows neither key, a Firebase body has only `data`), so recognising
 * the envelope takes nothing away from them.
 */
import { z } from 'zod';
import { formatIssues } from '../errors.js';
import { parseSubscriptionPath } from '../queues/topic-paths.js';
import type { PubSubFacts } from '../work/types.js';
import { MAX_JSON_DEPTH, jsonObjectStart, tooDeepAt } from './codecs.js';

/** Standard base64 with padding, as Pub/Sub encodes `message.data`. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MESSAGE_ID = /^[A-Za-z0-9_-]{1,500}$/;

const messageSchema = z.object({
  data: z.string().regex(BASE64, 'must be base64').optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  messageId: z.string().regex(MESSAGE_ID, 'must be a message id').optional(),
  message_id: z.string().regex(MESSAGE_ID, 'must be a message id').optional(),
  publishTime: z.string().max(100).optional(),
  publish_time: z.string().max(100).optional(),
  orderingKey: z.string().max(1024).optional(),
});

const envelopeSchema = z.object({
  message: messageSchema,
  subscription: z.string().refine((s) => parseSubscriptionPath(s) !== undefined, 'must be projects/PROJECT/subscriptions/ID'),
  deliveryAttempt: z.number().int('must be an integer').min(1, 'must be at least 1').optional(),
});

/** What a push body is, as far as Pub/Sub is concerned. */
export type Unwrapped =
  /** Not a Pub/Sub envelope: a Cloud Tasks (or direct) body, for the codecs as it is. */
  | { kind: 'none' }
  /** A Pub/Sub push: the job's bytes and the message's facts. */
  | { kind: 'envelope'; data: Buffer; facts: PubSubFacts }
  /** An object with `message` and `subscription` that is not a valid envelope; it never will be. */
  | { kind: 'malformed'; reason: string; subscription?: string };

const SUBSCRIPTION_KEY = Buffer.from('"subscription"');
const MESSAGE_KEY = Buffer.from('"message"');

/** Unwraps a Pub/Sub push envelope; `none` for any other body. */
export function unwrapPubSub(body: Buffer): Unwrapped {
  // Cheap byte checks first: most bodies are not envelopes and must not be parsed twice.
  const start = jsonObjectStart(body);
  if (start === -1 || !body.includes(SUBSCRIPTION_KEY) || !body.includes(MESSAGE_KEY)) return { kind: 'none' };
  const text = body.toString('utf8', start);
  if (tooDeepAt(text, MAX_JSON_DEPTH) !== -1) return { kind: 'none' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON after all: the codecs say why.
    return { kind: 'none' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'none' };
  if (!Object.hasOwn(parsed, 'message') || !Object.hasOwn(parsed, 'subscription')) return { kind: 'none' };

  const result = envelopeSchema.safeParse(parsed);
  const claimed = (parsed as { subscription?: unknown }).subscription;
  const subscription = typeof claimed === 'string' && parseSubscriptionPath(claimed) !== undefined ? claimed : undefined;
  if (!result.success) {
    const reason = formatIssues(result.error.issues.slice(0, 5)).join('; ');
    return { kind: 'malformed', reason: `Invalid Pub/Sub push envelope: ${reason}`, ...(subscription !== undefined ? { subscription } : {}) };
  }
  const e = result.data;
  const messageId = e.message.messageId ?? e.message.message_id;
  if (messageId === undefined) {
    return { kind: 'malformed', reason: 'Invalid Pub/Sub push envelope: message.messageId is required', subscription: e.subscription };
  }
  const publishTime = e.message.publishTime ?? e.message.publish_time;
  const facts: PubSubFacts = {
    subscription: e.subscription,
    messageId,
    attributes: e.message.attributes ?? {},
    ...(e.deliveryAttempt !== undefined ? { deliveryAttempt: e.deliveryAttempt } : {}),
    ...(publishTime !== undefined ? { publishTime } : {}),
    ...(e.message.orderingKey !== undefined && e.message.orderingKey !== '' ? { orderingKey: e.message.orderingKey } : {}),
  };
  return { kind: 'envelope', data: Buffer.from(e.message.data ?? '', 'base64'), facts };
}
