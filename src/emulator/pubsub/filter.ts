import { invalidArgument } from '../status.js';

/** A compiled subscription filter: true when a message with these attributes is delivered. */
export type MessageFilter = (attributes: Readonly<Record<string, string>>) => boolean;

const MAX_FILTER_BYTES = 256;

type Token =
  | { kind: 'attributes' | 'lparen' | 'rparen' | 'comma' | 'dot' | 'colon' | 'eq' | 'ne' | 'minus' | 'end' }
  | { kind: 'word'; value: string }
  | { kind: 'string'; value: string };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '\\': '\\', '"': '"', "'": "'", '?': '?' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw invalidArgument(`Invalid filter: ${what} at position ${i + 1} of '${text}'.`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const single: Record<string, Token['kind']> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '.': 'dot', ':': 'colon', '=': 'eq', '-': 'minus' };
    if (c === '!' && text[i + 1] === '=') {
      out.push({ kind: 'ne' });
      i += 2;
    } else if (single[c] !== undefined && !(c === '-' && out.at(-1)?.kind === 'dot')) {
      out.push({ kind: single[c] } as Token);
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated string');
        const ch = text[i]!;
        if (ch === c) break;
        if (ch === '\\') {
          const e = text[i + 1] ?? fail('dangling backslash');
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
          } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 4;
          } else if (/^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
            value += String.fromCharCode(parseInt(text.slice(i + 1, i + 4), 8));
            i += 4;
          } else if (ESCAPES[e] !== undefined) {
            value += ESCAPES[e];
            i += 2;
          } else fail(`unknown escape \\${e}`);
        } else {
          value += ch;
          i++;
        }
      }
      i++;
      out.push({ kind: 'string', value });
    } else if (/[A-Za-z0-9_-]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_-]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      out.push(word === 'attributes' ? { kind: 'attributes' } : { kind: 'word', value: word });
      i = j;
    } else fail(`unexpected character '${c}'`);
  }
  out.push({ kind: 'end' });
  return out;
}

/**
 * Compiles a subscription filter in Pub/Sub's filter syntax (cloud.google.com/pubsub/docs/subscription-message-filter):
 * `attributes:KEY`, `attributes.KEY = "v"`, `attributes.KEY != "v"`, `hasPrefix(attributes.KEY, "p")`,
 * combined with NOT (or `-`), AND, OR and parentheses; AND and OR may not be mixed without
 * parentheses. Keys other than [A-Za-z0-9_-] are written as string literals. `!=` is the negation
 * of `=` (a message without the attribute matches it). INVALID_ARGUMENT on anything else.
 * (A recursive-descent parser whose small inner functions share the token cursor, hence one closure.)
 */
export function parseFilter(text: string): MessageFilter {
  if (Buffer.byteLength(text) > MAX_FILTER_BYTES) throw invalidArgument(`Invalid filter: it is longer than ${MAX_FILTER_BYTES} bytes.`);
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const fail = (what: string): never => {
    throw invalidArgument(`Invalid filter '${text}': ${what}.`);
  };
  const expect = (kind: Token['kind'], what: string): Token => (peek().kind === kind ? tokens[pos++]! : fail(`expected ${what}`));
  const key = (): string => {
    const t = tokens[pos++]!;
    if (t.kind === 'word' || t.kind === 'string') return t.value;
    return fail('expected an attribute key after attributes. or attributes:');
  };
  const string = (): string => {
    const t = expect('string', 'a quoted string value');
    return (t as { value: string }).value;
  };
  const isWord = (w: string): boolean => {
    const t = peek();
    return t.kind === 'word' && t.value === w;
  };

  function expr(): MessageFilter {
    const first = unary();
    const op = isWord('AND') ? 'AND' : isWord('OR') ? 'OR' : undefined;
    if (op === undefined) return first;
    const parts = [first];
    while (isWord('AND') || isWord('OR')) {
      if (!isWord(op)) fail('AND and OR cannot be mixed without parentheses');
      pos++;
      parts.push(unary());
    }
    return op === 'AND' ? (a) => parts.every((p) => p(a)) : (a) => parts.some((p) => p(a));
  }

  function unary(): MessageFilter {
    if (isWord('NOT') || peek().kind === 'minus') {
      pos++;
      const inner = unary();
      return (a) => !inner(a);
    }
    return primary();
  }

  function primary(): MessageFilter {
    const t = peek();
    if (t.kind === 'lparen') {
      pos++;
      const inner = expr();
      expect('rparen', "')'");
      return inner;
    }
    if (isWord('hasPrefix')) {
      pos++;
      expect('lparen', "'(' after hasPrefix");
      expect('attributes', 'attributes.KEY in hasPrefix');
      expect('dot', "'.' after attributes");
      const k = key();
      expect('comma', "',' in hasPrefix");
      const prefix = string();
      expect('rparen', "')' closing hasPrefix");
      return (a) => Object.hasOwn(a, k) && a[k]!.startsWith(prefix);
    }
    if (t.kind !== 'attributes') return fail('expected attributes, hasPrefix, NOT or (');
    pos++;
    if (peek().kind === 'colon') {
      pos++;
      const k = key();
      return (a) => Object.hasOwn(a, k);
    }
    expect('dot', "'.' or ':' after attributes");
    const k = key();
    const op = peek().kind;
    if (op !== 'eq' && op !== 'ne') return fail(`expected = or != after attributes.${k}`);
    pos++;
    const v = string();
    return op === 'eq' ? (a) => a[k] === v && Object.hasOwn(a, k) : (a) => !(Object.hasOwn(a, k) && a[k] === v);
  }

  const filter = expr();
  if (peek().kind !== 'end') fail('unexpected text after the expression');
  return filter;
}
