import type { PushRequest } from '../dispatch.js';
import type { OidcSigner } from '../oidc.js';
import type { Delivery, SubscriptionRecord } from './model.js';

/** Production acks a push answered with one of these statuses; anything else (or no answer) is a nack. */
const ACK_STATUSES: ReadonlySet<number> = new Set([102, 200, 201, 202, 204]);

/** Whether a push endpoint's HTTP status acknowledges the message. */
export const pushAcks = (status: number): boolean => ACK_STATUSES.has(status);

/** Attribute names that can travel as HTTP header names (others are left out of the headers). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What Google's push requests carry as User-Agent. */
export const PUSH_USER_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';

/** RFC 3339 with the microsecond-free 'Z' form production uses in envelopes. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/**
 * The wrapped push body, as production sends it: both camelCase and snake_case ids and times
 * (receivers written against either keep working), `deliveryAttempt` only with a dead-letter policy.
 */
export function pushEnvelope(sub: SubscriptionRecord, d: Delivery): Record<string, unknown> {
  const m = d.message;
  const message: Record<string, unknown> = {};
  if (Object.keys(m.attributes).length > 0) message.attributes = m.attributes;
  if (m.data.length > 0) message.data = m.data.toString('base64');
  message.messageId = m.messageId;
  message.message_id = m.messageId;
  if (m.orderingKey !== '') message.orderingKey = m.orderingKey;
  message.publishTime = rfc3339(m.publishTimeMs);
  message.publish_time = rfc3339(m.publishTimeMs);
  const body: Record<string, unknown> = { message, subscription: sub.name };
  if (d.deliveryAttempt > 0) body.deliveryAttempt = d.deliveryAttempt;
  return body;
}

/** The HTTP request of one push delivery (wrapped JSON, or raw data with x-goog-pubsub-* headers). */
export function pushRequest(sub: SubscriptionRecord, d: Delivery, signer: OidcSigner, nowMs: number): PushRequest {
  const push = sub.pushConfig!;
  const headers: Record<string, string> = { 'user-agent': PUSH_USER_AGENT };
  let body: Buffer;
  if (push.noWrapper === undefined) {
    headers['content-type'] = 'application/json';
    body = Buffer.from(JSON.stringify(pushEnvelope(sub, d)));
  } else {
    body = d.message.data;
    if (push.noWrapper.writeMetadata) {
      const m = d.message;
      // Attributes first, so a metadata header can never be overwritten by an attribute of the same name.
      for (const [k, v] of Object.entries(m.attributes)) if (HEADER_NAME.test(k) && !/[\r\n]/.test(v)) headers[k.toLowerCase()] = v;
      headers['x-goog-pubsub-subscription-name'] = sub.name;
      headers['x-goog-pubsub-message-id'] = m.messageId;
      headers['x-goog-pubsub-publish-time'] = rfc3339(m.publishTimeMs);
      if (m.orderingKey !== '') headers['x-goog-pubsub-ordering-key'] = m.orderingKey;
      if (d.deliveryAttempt > 0) headers['x-goog-pubsub-delivery-attempt'] = String(d.deliveryAttempt);
    }
  }
  if (push.oidcToken !== undefined) {
    const audience = push.oidcToken.audience || push.pushEndpoint;
    headers.authorization = `Bearer ${signer.token(push.oidcToken.serviceAccountEmail, audience, nowMs)}`;
  }
  return { url: push.pushEndpoint, method: 'POST', headers, body, timeoutMs: sub.ackDeadlineSeconds * 1000, settleOnInterim: 102 };
}

/** Push window and backoff: production's slow start, halving on nacks, backoff doubling 100 ms → 60 s. */
export const PUSH_FLOW = {
  initialWindow: 10,
  maxWindow: 3000,
  minBackoffMs: 100,
  maxBackoffMs: 60_000,
} as const;
