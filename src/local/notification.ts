/**
 * Turns a notification body, as the notifier queue delivers it to a webhook, into the facts the
 * local stack counts: which job, which outcome. The executor's codec (src/executor/codecs.ts) only
 * encodes notifications; the client side of the wire lives in ./wire.ts, and test/local/wire.test.ts
 * pins the two together (every notification the executor encodes decodes here).
 */
import { CodedError, messageOf } from '../errors.js';
import { decodeResponse, type ResponseFacts } from './wire.js';

/** A decoded notification: the facts the client side of the wire reads from it. */
export type DecodedNotification = ResponseFacts;

/**
 * Decodes a notification body: a binary `SvcWorkResponse`, its proto3 JSON mapping, or the JSON
 * envelope notification. Throws a CodedError (`WEBHOOK_UNDECODABLE`) for anything else.
 */
export function decodeNotification(body: Buffer): DecodedNotification {
  try {
    return decodeResponse(body);
  } catch (err) {
    throw new CodedError('WEBHOOK_UNDECODABLE', `Not a notification (SvcWorkResponse or JSON envelope notification): ${messageOf(err)}`, {
      cause: err,
    });
  }
}
