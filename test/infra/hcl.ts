/**
 * Reads infra/*.tf with @cdktf/hcl2json and evaluates the small subset of Terraform expressions the
 * infrastructure uses in resource arguments, so tests can check what a service's environment, a
 * queue's retry limit or an IAM member actually become — without a terraform binary.
 *
 * The evaluator is deliberately strict: an expression shape it does not know throws, so a change to
 * the .tf files that these tests cannot see through fails loudly instead of passing vacuously.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { type Env, evaluateAttribute } from './expr.js';

/** Repository root (tests run from it). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The Terraform directory. */
export const INFRA = join(ROOT, 'infra');

/** A parsed block body as hcl2json renders it. */
export type Body = Record<string, unknown>;

/** All infra/*.tf files merged: resources by type and name, variables, locals, outputs. */
export interface Infra {
  /** `resource[type][name]` → the block body. */
  resources: Record<string, Record<string, Body>>;
  /** `variable[name]` → the block body. */
  variables: Record<string, Body>;
  /** Every `locals` entry, merged. */
  locals: Record<string, unknown>;
  /** `output[name]` → the block body. */
  outputs: Record<string, Body>;
  /** Raw text of every .tf file, by file name. */
  text: Record<string, string>;
}

/** Parses every infra/*.tf file. */
export async function loadInfra(): Promise<Infra> {
  const infra: Infra = { resources: {}, variables: {}, locals: {}, outputs: {}, text: {} };
  const files = readdirSync(INFRA).filter((f) => f.endsWith('.tf')).sort();
  for (const file of files) {
    const text = readFileSync(join(INFRA, file), 'utf8');
    infra.text[file] = text;
    const json = (await parse(file, text)) as Record<string, unknown>;
    for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, Record<string, Body[]>>)) {
      for (const [name, blocks] of Object.entries(byName)) {
        (infra.resources[type] ??= {})[name] = blocks[0]!;
      }
    }
    for (const [name, blocks] of Object.entries((json.variable ?? {}) as Record<string, Body[]>)) infra.variables[name] = blocks[0]!;
    for (const [name, blocks] of Object.entries((json.output ?? {}) as Record<string, Body[]>)) infra.outputs[name] = blocks[0]!;
    for (const block of (json.locals ?? []) as Body[]) Object.assign(infra.locals, block);
  }
  return infra;
}

/** Parses an HCL file of values (terraform.tfvars). */
export async function loadTfvars(path: string): Promise<Record<string, unknown>> {
  return (await parse('terraform.tfvars', readFileSync(path, 'utf8'))) as Record<string, unknown>;
}

/**
 * Attribute defaults declared with `optional(type, default)` in a variable's type constraint, e.g.
 * `{ max_backoff: "60s", min_instances: 0 }`. Attributes declared `optional(type)` default to null.
 */
export function optionalDefaults(typeExpr: string): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  // Types are primitives or a collection of one (`list(number)`); defaults are literals or lists of them.
  const literal = String.raw`"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null`;
  const re = new RegExp(String.raw`(\w+)\s*=\s*optional\(\s*(\w+|(?:list|set|map)\(\w+\))\s*(?:,\s*(${literal}|\[\s*(?:(?:${literal})\s*,?\s*)*\]))?\s*\)`, 'g');
  for (const m of typeExpr.matchAll(re)) {
    defaults[m[1]!] = m[3] === undefined ? null : JSON.parse(m[3].replace(/,\s*\]$/, ']'));
  }
  return defaults;
}

/** Whitespace-insensitive form of an expression, for comparing .tf text with expected fragments. */
export function squash(text: string): string {
  return text.replace(/#[^\n]*/g, '').replace(/\s+/g, ' ').trim();
}

/** What an expression may refer to. */
export interface Scope {
  /** `var.*`: tfvars over variable defaults. */
  vars: Record<string, unknown>;
  /** `local.*` the test computed (scalars and maps). */
  locals: Record<string, unknown>;
  /** `each.key` / `each.value` inside a for_each resource. */
  each?: { key: string; value: unknown };
  /** `env.key` / `env.value` inside a dynamic "env" block. */
  iter?: { key: string; value: unknown };
  /** `data.google_project.this.number` and other data source attributes, by reference path. */
  data: Record<string, unknown>;
  /** Resolves `TYPE.NAME[KEY].ATTR` / `TYPE.NAME.ATTR` references to other resources. */
  resource: (type: string, name: string, key: string | undefined, attr: string) => unknown;
  /**
   * The same resources as objects (`refs.google_service_account.invoker.email`), for expressions
   * evalExpr does not know, which test/infra/expr.ts evaluates instead.
   */
  refs?: Record<string, unknown>;
}

/** Throws for expressions the evaluator does not support, naming them. */
export class UnsupportedExpression extends Error {
  constructor(expr: string) {
    super(`test/infra cannot evaluate '${expr}'; extend test/infra/hcl.ts or simplify the .tf expression`);
  }
}

/** A primitive value as Terraform renders it in a string; anything else cannot be interpolated. */
function scalar(value: unknown, expr: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnsupportedExpression(expr);
}

function walk(value: unknown, path: string[], expr: string): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || current === undefined || typeof current !== 'object') throw new UnsupportedExpression(expr);
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Evaluates one expression (the inside of `${…}`). */
export function evalExpr(expr: string, scope: Scope): unknown {
  const e = expr.trim();
  let m: RegExpExecArray | null;
  if ((m = /^tostring\((.*)\)$/s.exec(e))) {
    const v = evalExpr(m[1]!, scope);
    return v === null ? null : scalar(v, e);
  }
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  if (e === 'null') return null;
  if (/^"[^"$]*"$/.test(e)) return e.slice(1, -1);
  if ((m = /^var\.([\w.]+)$/.exec(e))) return walk(scope.vars, m[1]!.split('.'), e);
  if ((m = /^local\.([\w.]+)$/.exec(e))) return walk(scope.locals, m[1]!.split('.'), e);
  if (e === 'each.key') {
    if (!scope.each) throw new UnsupportedExpression(e);
    return scope.each.key;
  }
  if ((m = /^each\.value((?:\.\w+)*)$/.exec(e))) {
    if (!scope.each) throw new UnsupportedExpression(e);
    return walk(scope.each.value, m[1]!.split('.').filter(Boolean), e);
  }
  if ((m = /^env\.(key|value)((?:\.\w+)*)$/.exec(e))) {
    if (!scope.iter) throw new UnsupportedExpression(e);
    return m[1] === 'key' ? scope.iter.key : walk(scope.iter.value, m[2]!.split('.').filter(Boolean), e);
  }
  if ((m = /^(data\.[\w.]+)$/.exec(e))) {
    if (!(m[1]! in scope.data)) throw new UnsupportedExpression(e);
    return scope.data[m[1]!];
  }
  if ((m = /^(google_\w+)\.(\w+)(?:\[(.+)\])?\.(\w+)$/.exec(e))) {
    const key = m[3] === undefined ? undefined : String(evalExpr(m[3], scope));
    return scope.resource(m[1]!, m[2]!, key, m[4]!);
  }
  throw new UnsupportedExpression(e);
}

/**
 * Evaluates an hcl2json value: a string template (`"a-${var.x}"`, or a whole `"${expr}"`, which keeps
 * the expression's type), or a literal number/boolean/null.
 */
export function evalValue(value: unknown, scope: Scope): unknown {
  if (typeof value !== 'string') return value;
  // Conditionals, functions and templates inside templates: the full expression evaluator.
  if (nestedTemplate(value)) return evaluateAttribute(value, exprEnv(scope));
  try {
    return evalSimple(value, scope);
  } catch (err) {
    if (!(err instanceof UnsupportedExpression) || scope.refs === undefined) throw err;
    return evaluateAttribute(value, exprEnv(scope));
  }
}

/** Whether a `${` opens inside another `${…}` (which evalSimple's template substitution cannot read). */
function nestedTemplate(value: string): boolean {
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '$' && value[i + 1] === '{') {
      if (depth > 0) return true;
      depth++;
      i++;
    } else if (depth > 0 && value[i] === '{') depth++;
    else if (depth > 0 && value[i] === '}') depth--;
  }
  return false;
}

/** The names a Scope makes visible, as test/infra/expr.ts expects them. */
export function exprEnv(scope: Scope): Env {
  const data: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(scope.data)) {
    const parts = path.split('.').slice(1);
    let node = data;
    parts.slice(0, -1).forEach((p) => (node = (node[p] ??= {}) as Record<string, unknown>));
    node[parts.at(-1)!] = value;
  }
  return {
    ...(scope.refs ?? {}),
    var: scope.vars,
    local: scope.locals,
    data,
    ...(scope.each ? { each: scope.each } : {}),
    ...(scope.iter ? { env: scope.iter } : {}),
  };
}

function evalSimple(value: string, scope: Scope): unknown {
  const whole = /^\$\{([^]*)\}$/.exec(value);
  if (whole && !whole[1]!.includes('${')) return evalExpr(whole[1]!, scope);
  return value.replace(/\$\{([^{}]*)\}/g, (_all, inner: string) => {
    return scalar(evalExpr(inner, scope), inner);
  });
}
