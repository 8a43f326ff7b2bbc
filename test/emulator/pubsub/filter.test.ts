// Pins the subscription filter syntax (cloud.google.com/pubsub/docs/subscription-message-filter):
// attributes:KEY, attributes.KEY = "v" / != "v", hasPrefix(attributes.KEY, "p"), NOT / -, AND, OR,
// parentheses (required to mix AND and OR), string-literal keys and escapes, at most 256 bytes.
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/emulator/pubsub/filter.js';

const cases: Array<[string, Record<string, string>, boolean]> = [
  ['attributes:domain', { domain: 'com' }, true],
  ['attributes:domain', { other: 'x' }, false],
  ['attributes.domain = "com"', { domain: 'com' }, true],
  ['attributes.domain = "com"', { domain: 'org' }, false],
  ['attributes.domain != "com"', { domain: 'org' }, true],
  ['attributes.domain != "com"', {}, true],
  ['hasPrefix(attributes.domain, "co")', { domain: 'com' }, true],
  ['hasPrefix(attributes.domain, "co")', { domain: 'org' }, false],
  ['NOT attributes:domain', {}, true],
  ['-attributes:domain', { domain: 'x' }, false],
  ['attributes:a AND attributes:b', { a: '1', b: '2' }, true],
  ['attributes:a AND attributes:b', { a: '1' }, false],
  ['attributes:a OR attributes:b', { b: '2' }, true],
  ['(attributes:a OR attributes:b) AND NOT attributes.c = "x"', { a: '1', c: 'y' }, true],
  ['(attributes:a OR attributes:b) AND NOT attributes.c = "x"', { a: '1', c: 'x' }, false],
  ['attributes."my key" = "a\\"b"', { 'my key': 'a"b' }, true],
  ['attributes.event-type = "order.paid"', { 'event-type': 'order.paid' }, true],
];

describe('subscription filters', () => {
  it.each(cases)('%s on %j → %s', (filter, attributes, expected) => {
    expect(parseFilter(filter)(attributes)).toBe(expected);
  });

  it.each([
    'attributes:a AND attributes:b OR attributes:c',
    'attributes.a = unquoted',
    'attributes.a == "x"',
    'data = "x"',
    '(attributes:a',
    'attributes:a extra',
    'attributes.a = "unterminated',
    `attributes.a = "${'x'.repeat(260)}"`,
  ])('rejects %s with INVALID_ARGUMENT', (filter) => {
    expect(() => parseFilter(filter)).toThrow(expect.objectContaining({ status: 'INVALID_ARGUMENT' }));
  });
});
