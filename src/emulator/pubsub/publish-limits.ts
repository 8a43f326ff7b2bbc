import { invalidArgument } from '../status.js';
import { PUBSUB_LIMITS as L } from './model.js';

const utf8 = (s: string): number => Buffer.byteLength(s);

/** Production's publish limits; the first broken one is reported. */
export function checkPublish(messages: Array<{ data?: Buffer | undefined; attributes?: Record<string, string> | undefined; orderingKey?: string | undefined }>): void {
  if (messages.length === 0) throw invalidArgument('The publish request must contain at least one message.');
  if (messages.length > L.maxMessagesPerPublish) {
    throw invalidArgument(`The value for message_count is too large. You passed ${messages.length} in the request, but the maximum value is ${L.maxMessagesPerPublish}.`);
  }
  let total = 0;
  for (const m of messages) {
    const attrs = m.attributes ?? {};
    const keys = Object.keys(attrs);
    const size = (m.data?.length ?? 0) + keys.reduce((n, k) => n + utf8(k) + utf8(attrs[k]!), 0) + utf8(m.orderingKey ?? '');
    total += size;
    if ((m.data?.length ?? 0) === 0 && keys.length === 0) {
      throw invalidArgument('One or more messages in the publish request is empty. Each message must contain either non-empty data, or at least one attribute.');
    }
    if (size > L.maxMessageBytes) throw invalidArgument(`A message is ${size} bytes: the maximum message size is ${L.maxMessageBytes} bytes.`);
    if (keys.length > L.maxAttributes) throw invalidArgument(`A message has ${keys.length} attributes: the maximum is ${L.maxAttributes}.`);
    for (const k of keys) {
      if (k === '') throw invalidArgument('Attribute keys must not be empty.');
      if (utf8(k) > L.maxAttributeKeyBytes) throw invalidArgument(`The attribute key '${k.slice(0, 40)}…' is longer than ${L.maxAttributeKeyBytes} bytes.`);
      // `googclient_` is the client libraries' own prefix (@google-cloud/pubsub publishes
      // googclient_traceparent and googclient_schema*), which production accepts.
      if (/^goog/i.test(k) && !k.startsWith('googclient_')) throw invalidArgument(`The attribute key '${k}' is reserved: keys must not start with "goog".`);
      if (utf8(attrs[k]!) > L.maxAttributeValueBytes) throw invalidArgument(`The value of attribute '${k}' is longer than ${L.maxAttributeValueBytes} bytes.`);
    }
    if (utf8(m.orderingKey ?? '') > L.maxOrderingKeyBytes) throw invalidArgument(`An ordering key is longer than ${L.maxOrderingKeyBytes} bytes.`);
  }
  if (total > L.maxPublishRequestBytes) {
    throw invalidArgument(`The value for request_size is too large. You passed ${total} in the request, but the maximum value is ${L.maxPublishRequestBytes}.`);
  }
}
