/**
 * A small evaluator for the HCL expression language, enough for the `locals` of infra/: literals,
 * string templates, references (`var.x`, `local.x`, `t.y[0]`), arithmetic, comparison and logic,
 * conditionals, object/tuple constructors, `for` expressions (with `if`) and a few functions. It lets
 * the tests compute `local.tiers` from locals.tf itself instead of trusting a re-implementation.
 *
 * Anything outside that subset throws, naming the construct, so the tests fail loudly.
 */

type Value = unknown;
/** Names visible to an expression: `var`, `local`, `data` roots and for-expression symbols. */
export type Env = Record<string, Value>;

type Token =
  | { t: 'num'; v: number }
  | { t: 'str'; parts: Array<string | Token[]> }
  | { t: 'id'; v: string }
  | { t: 'op'; v: string }
  | { t: 'nl' };

const OPS = ['=>', '==', '!=', '<=', '>=', '&&', '||', '...', '+', '-', '*', '/', '%', '<', '>', '!', '?', ':', '.', ',', '=', '(', ')', '[', ']', '{', '}'];

function tokenize(src: string, start = 0, untilBrace = false): { tokens: Token[]; end: number } {
  const tokens: Token[] = [];
  let i = start;
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      tokens.push({ t: 'nl' });
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      tokens.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
      tokens.push({ t: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '"') {
      const parts: Array<string | Token[]> = [];
      let text = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\') {
          const n = src[i + 1]!;
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else if (src[i] === '$' && src[i + 1] === '{') {
          if (text !== '') parts.push(text);
          text = '';
          const inner = tokenize(src, i + 2, true);
          parts.push(inner.tokens);
          i = inner.end + 1;
        } else {
          text += src[i];
          i++;
        }
      }
      if (src[i] !== '"') throw new Error('unterminated string in HCL expression');
      if (text !== '' || parts.length === 0) parts.push(text);
      tokens.push({ t: 'str', parts });
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`unexpected '${c}' in HCL expression`);
    if (untilBrace) {
      if (op === '{') depth++;
      if (op === '}') {
        if (depth === 0) return { tokens, end: i };
        depth--;
      }
    }
    tokens.push({ t: 'op', v: op });
    i += op.length;
  }
  if (untilBrace) throw new Error('unterminated ${ in HCL string');
  return { tokens, end: i };
}

/** Evaluates an HCL expression (without the surrounding `${ }`) in `env`. */
export function evaluate(source: string, env: Env): Value {
  const p = new Parser(tokenize(source).tokens, env);
  const v = p.expression();
  p.skipNewlines();
  if (!p.done()) throw new Error(`unexpected input after expression: ${source.slice(0, 80)}`);
  return v;
}

/**
 * Evaluates a value as hcl2json renders it: a string that is exactly one `${expr}` keeps the
 * expression's type; any other string is a template; objects and arrays are evaluated member-wise.
 */
export function evaluateAttribute(value: unknown, env: Env): Value {
  if (Array.isArray(value)) return value.map((v) => evaluateAttribute(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateAttribute(v, env)]));
  }
  if (typeof value !== 'string') return value;
  if (value.startsWith('${')) {
    const { end } = tokenize(value, 2, true);
    if (end === value.length - 1) return evaluate(value.slice(2, -1), env);
  }
  return evaluate(JSON.stringify(value), env);
}

function isObject(v: Value): v is Record<string, Value> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function toText(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`cannot interpolate ${JSON.stringify(v)} into a string`);
}

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  tostring: (v) => (v === null ? null : toText(v)),
  tonumber: (v) => (v === null ? null : Number(v)),
  length: (v) => (Array.isArray(v) ? v.length : typeof v === 'string' ? v.length : isObject(v) ? Object.keys(v).length : NaN),
  keys: (v) => Object.keys(v as object).sort(),
  sort: (v) => [...(v as string[])].sort(),
  merge: (...maps) => Object.assign({}, ...(maps.filter((m) => m !== null) as object[])) as Record<string, Value>,
  toset: (v) => [...new Set(v as Value[])],
  tomap: (v) => v,
  join: (sep, list) => (list as Value[]).map(toText).join(toText(sep)),
  range: (a, b) => {
    const [from, to] = b === undefined ? [0, a as number] : [a as number, b as number];
    return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
  },
  coalesce: (...vs) => vs.find((v) => v !== null && v !== ''),
  alltrue: (list) => (list as Value[]).every((v) => v === true),
  concat: (...lists) => (lists as Value[][]).flat(),
  contains: (list, v) => (list as Value[]).some((item) => JSON.stringify(item) === JSON.stringify(v)),
  min: (...ns) => Math.min(...(ns as number[])),
  max: (...ns) => Math.max(...(ns as number[])),
  // Pairs in the order Terraform gives them for lists: every element of the first with each of the second.
  setproduct: (a, b) => (a as Value[]).flatMap((x) => (b as Value[]).map((y) => [x, y])),
  one: (list) => {
    const items = list as Value[];
    if (items.length > 1) throw new Error('one() of a list with more than one element');
    return items.length === 0 ? null : items[0];
  },
};

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly env: Env,
  ) {}

  done(): boolean {
    return this.pos >= this.tokens.length;
  }

  skipNewlines(): void {
    while (this.tokens[this.pos]?.t === 'nl') this.pos++;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isOp(v: string, skipNl = true): boolean {
    if (skipNl) this.skipNewlines();
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }

  private isId(v: string): boolean {
    this.skipNewlines();
    const t = this.peek();
    return t?.t === 'id' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isOp(v)) throw new Error(`expected '${v}' in HCL expression`);
    this.pos++;
  }

  expression(): Value {
    const cond = this.binary(0);
    if (this.isOp('?', false)) {
      this.pos++;
      // Both branches are parsed; only the chosen one's value is used (Terraform drops the other's errors).
      const yes = this.attempt(() => this.expression());
      this.expect(':');
      const no = this.attempt(() => this.expression());
      const chosen = cond === true ? yes : no;
      if (chosen.error !== undefined) throw chosen.error;
      return chosen.value;
    }
    return cond;
  }

  /** Evaluates a sub-expression, capturing evaluation errors so an unchosen branch cannot fail. */
  private attempt(fn: () => Value): { value?: Value; error?: Error } {
    const saved = this.pos;
    try {
      return { value: fn() };
    } catch (error) {
      // Skip the branch's tokens: re-parse it without evaluation.
      this.pos = saved;
      this.skipExpression();
      return { error: error instanceof Error ? error : new Error('HCL evaluation failed') };
    }
  }

  /** Advances past one expression without evaluating it (brackets balanced, stops at ':' ',' '=>' or a closer). */
  private skipExpression(): void {
    let depth = 0;
    let ternaries = 0;
    while (!this.done()) {
      const t = this.peek()!;
      if (t.t === 'op') {
        if (['(', '[', '{'].includes(t.v)) depth++;
        else if ([')', ']', '}'].includes(t.v)) {
          if (depth === 0) return;
          depth--;
        } else if (depth === 0 && t.v === '?') ternaries++;
        else if (depth === 0 && t.v === ':') {
          if (ternaries === 0) return;
          ternaries--;
        } else if (depth === 0 && (t.v === ',' || t.v === '=>')) return;
      } else if (t.t === 'nl' && depth === 0) return;
      this.pos++;
    }
  }

  private static PRECEDENCE: Array<string[]> = [['||'], ['&&'], ['==', '!='], ['<', '>', '<=', '>='], ['+', '-'], ['*', '/', '%']];

  private binary(level: number): Value {
    if (level >= Parser.PRECEDENCE.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t?.t !== 'op' || !Parser.PRECEDENCE[level]!.includes(t.v)) return left;
      this.pos++;
      const right = this.binary(level + 1);
      left = binaryOp(t.v, left, right);
    }
  }

  private unary(): Value {
    if (this.isOp('!', false)) {
      this.pos++;
      return !(this.unary() as boolean);
    }
    if (this.isOp('-', false)) {
      this.pos++;
      return -(this.unary() as number);
    }
    return this.postfix(this.primary());
  }

  private postfix(value: Value): Value {
    let v = value;
    for (;;) {
      if (this.isOp('.', false)) {
        this.pos++;
        const name = this.peek();
        if (name?.t !== 'id') throw new Error('expected an attribute name after .');
        this.pos++;
        if (!isObject(v)) throw new Error(`cannot read attribute ${name.v} of ${JSON.stringify(v)}`);
        v = v[name.v];
        if (v === undefined) throw new Error(`no attribute ${name.v}`);
      } else if (this.isOp('[', false)) {
        this.pos++;
        const key = this.expression();
        this.expect(']');
        if (Array.isArray(v)) v = v[key as number];
        else if (isObject(v)) v = v[toText(key)];
        else throw new Error(`cannot index ${JSON.stringify(v)}`);
        if (v === undefined) throw new Error(`no element ${JSON.stringify(key)}`);
      } else {
        return v;
      }
    }
  }

  private primary(): Value {
    this.skipNewlines();
    const t = this.peek();
    if (!t) throw new Error('unexpected end of HCL expression');
    this.pos++;
    if (t.t === 'num') return t.v;
    if (t.t === 'str') {
      if (t.parts.length === 1 && typeof t.parts[0] === 'string') return t.parts[0];
      return t.parts.map((part) => (typeof part === 'string' ? part : toText(new Parser(part, this.env).expression()))).join('');
    }
    if (t.t === 'id') {
      if (t.v === 'true') return true;
      if (t.v === 'false') return false;
      if (t.v === 'null') return null;
      if (this.isOp('(', false)) {
        this.pos++;
        const args: Value[] = [];
        while (!this.isOp(')')) {
          args.push(this.expression());
          if (this.isOp(',')) this.pos++;
        }
        this.pos++;
        const fn = FUNCTIONS[t.v];
        if (!fn) throw new Error(`function ${t.v} is not supported by test/infra/expr.ts`);
        return fn(...args);
      }
      if (!(t.v in this.env)) throw new Error(`unknown name ${t.v}`);
      return this.env[t.v];
    }
    if (t.t === 'nl') throw new Error('unexpected end of line in HCL expression');
    if (t.v === '(') {
      const v = this.expression();
      this.expect(')');
      return v;
    }
    if (t.v === '[') return this.isId('for') ? this.forExpr(']') : this.tuple();
    if (t.v === '{') return this.isId('for') ? this.forExpr('}') : this.object();
    throw new Error(`unexpected '${t.v}' in HCL expression`);
  }

  private tuple(): Value[] {
    const items: Value[] = [];
    while (!this.isOp(']')) {
      items.push(this.expression());
      if (this.isOp(',')) this.pos++;
    }
    this.pos++;
    return items;
  }

  private object(): Record<string, Value> {
    const out: Record<string, Value> = {};
    while (!this.isOp('}')) {
      this.skipNewlines();
      const keyToken = this.peek();
      let key: string;
      if (keyToken?.t === 'id' && !(this.tokens[this.pos + 1]?.t === 'op' && ['.', '['].includes((this.tokens[this.pos + 1] as { v: string }).v))) {
        key = keyToken.v;
        this.pos++;
      } else {
        key = toText(this.expression());
      }
      if (this.isOp('=') || this.isOp(':')) this.pos++;
      else throw new Error(`expected = after object key ${key}`);
      out[key] = this.expression();
      if (this.isOp(',')) this.pos++;
    }
    this.pos++;
    return out;
  }

  private forExpr(close: ']' | '}'): Value {
    this.pos++; // for
    const names: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.t !== 'id') throw new Error('expected a symbol in for expression');
      names.push(t.v);
      this.pos++;
      if (this.isOp(',')) this.pos++;
      else break;
    }
    if (!this.isId('in')) throw new Error("expected 'in' in for expression");
    this.pos++;
    const collection = this.expression();
    this.expect(':');
    const bodyStart = this.pos;
    const entries: Value[] = [];
    const items: Array<[Value, Value]> = Array.isArray(collection)
      ? collection.map((v, k) => [k, v])
      : isObject(collection)
        ? Object.keys(collection)
            .sort()
            .map((k) => [k, collection[k]])
        : (() => {
            throw new Error('for expression over a non-collection');
          })();
    let bodyEnd = bodyStart;
    const runBody = (env: Env | undefined): { key?: Value; value?: Value; keep: boolean } => {
      const p = new Parser(this.tokens, env ?? this.env);
      p.pos = bodyStart;
      const skip = env === undefined;
      let key: Value;
      let value: Value;
      if (close === '}') {
        if (skip) p.skipExpression();
        else key = p.expression();
        p.expect('=>');
      }
      if (skip) p.skipExpression();
      else value = p.expression();
      let keep = true;
      if (p.isId('if')) {
        p.pos++;
        if (skip) p.skipExpression();
        else keep = p.expression() === true;
      }
      p.expect(close);
      bodyEnd = p.pos;
      return { key, value, keep };
    };
    for (const [k, v] of items) {
      const scope: Env = { ...this.env };
      if (names.length === 1) scope[names[0]!] = v;
      else {
        scope[names[0]!] = k;
        scope[names[1]!] = v;
      }
      const r = runBody(scope);
      if (r.keep) entries.push(close === '}' ? [r.key, r.value] : r.value);
    }
    if (items.length === 0) runBody(undefined);
    this.pos = bodyEnd;
    if (close === ']') return entries;
    const out: Record<string, Value> = {};
    for (const [k, v] of entries as Array<[Value, Value]>) out[toText(k)] = v;
    return out;
  }
}

function binaryOp(op: string, a: Value, b: Value): Value {
  switch (op) {
    case '+':
      return (a as number) + (b as number);
    case '-':
      return (a as number) - (b as number);
    case '*':
      return (a as number) * (b as number);
    case '/':
      return (a as number) / (b as number);
    case '%':
      return (a as number) % (b as number);
    case '==':
      return JSON.stringify(a) === JSON.stringify(b);
    case '!=':
      return JSON.stringify(a) !== JSON.stringify(b);
    case '<':
      return (a as number) < (b as number);
    case '>':
      return (a as number) > (b as number);
    case '<=':
      return (a as number) <= (b as number);
    case '>=':
      return (a as number) >= (b as number);
    case '&&':
      return a === true && b === true;
    case '||':
      return a === true || b === true;
    default:
      throw new Error(`operator ${op} is not supported`);
  }
}
