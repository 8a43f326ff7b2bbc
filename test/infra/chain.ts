/**
 * The chain as infra/ computes it, for a given set of variable values: variable defaults (including
 * `optional(type, default)` attributes), `local.tiers` (re-implemented here, and pinned to the
 * locals.tf text by the tests), and each tier's service environment evaluated from services.tf.
 */
import { evaluateAttribute } from './expr.js';
import { type Body, type Infra, type Scope, evalExpr, evalValue, optionalDefaults, UnsupportedExpression } from './hcl.js';

/** Placeholder project number: the deterministic Cloud Run URLs embed it. */
export const PROJECT_NUMBER = '123456789012';

/** One tier of `local.tiers`. */
export interface TierModel {
  number: number;
  name: string;
  queue: string;
  url: string;
  next_queue: string | null;
  next_url: string | null;
  /** Full path of the push subscription feeding the tier (pubsub.tf), or null. */
  subscription: string | null;
  max_attempts: number;
  queue_max_attempts: number;
  max_dispatches_per_second: number;
  max_concurrent_dispatches: number;
  min_backoff: string;
  max_backoff: string;
  max_doublings: number;
  min_instances: number;
  max_instances: number;
  concurrency: number;
  worker_timeout_seconds: number;
  request_timeout: string;
  cpu: string;
  memory: string;
  worker_env: Record<string, string>;
}

/** A chain evaluated for one set of variable values. */
export interface Chain {
  /** Variable values: tfvars over defaults. */
  vars: Record<string, unknown>;
  /** Every local of locals.tf and iam.tf, evaluated from the HCL by test/infra/expr.ts. */
  locals: Record<string, unknown>;
  /** `local.tiers` as evaluated from locals.tf. */
  tiers: Record<string, TierModel>;
  /** `local.tiers` as test/infra/chain.ts models it (the specification the HCL must meet). */
  model: Record<string, TierModel>;
  /** Scope for evaluating resource arguments. */
  scope: Scope;
}

type Obj = Record<string, unknown>;

function typeOf(variable: Body): string {
  return typeof variable.type === 'string' ? variable.type : '';
}

/** tfvars over defaults; object-typed values get their optional attribute defaults filled in. */
export function resolveVars(infra: Infra, tfvars: Obj): Obj {
  const vars: Obj = {};
  for (const [name, variable] of Object.entries(infra.variables)) {
    const given = name in tfvars ? tfvars[name] : variable.default;
    if (given === undefined) throw new Error(`variable ${name} has no default and no value`);
    const type = typeOf(variable);
    const defaults = optionalDefaults(type);
    if (type.startsWith('${list(object(') && Array.isArray(given)) {
      vars[name] = given.map((item: Obj) => {
        const filled: Obj = { ...defaults, ...item };
        // Nested optional objects (a tier's worker override) get their own defaults.
        if (filled.worker !== undefined && filled.worker !== null) filled.worker = { module: null, url: null, command: null, ...(filled.worker as Obj) };
        filled.worker ??= null;
        return filled;
      });
    } else if (type.startsWith('${object(') && given !== null && typeof given === 'object') {
      vars[name] = { ...defaults, ...(given as Obj) };
    } else {
      vars[name] = given;
    }
  }
  return vars;
}

/** `local.tiers`, re-implemented (tests pin the locals.tf text this mirrors). */
export function modelTiers(vars: Obj, scalars: { queue_prefix: string; url_suffix: string }): Record<string, TierModel> {
  const prefix = vars.name_prefix as string;
  const tiers = vars.tiers as Obj[];
  const worker = vars.worker as Obj;
  const pubsub = vars.pubsub as { enabled: boolean; tiers: number[] };
  const out: Record<string, TierModel> = {};
  tiers.forEach((t, i) => {
    const n = i + 1;
    const last = n >= tiers.length;
    const source = (t.worker as Obj | null) ?? worker;
    const workerEnv: Record<string, string> = {};
    for (const [key, attr] of [['WORKER_MODULE', 'module'], ['WORKER_URL', 'url'], ['WORKER_COMMAND', 'command']] as const) {
      const v = source[attr];
      if (v !== null && v !== undefined) workerEnv[key] = v as string;
    }
    out[String(n)] = {
      number: n,
      name: `${prefix}-tier-${n}`,
      queue: `${scalars.queue_prefix}/${prefix}-tier-${n}`,
      url: `https://${prefix}-tier-${n}-${scalars.url_suffix}`,
      next_queue: last ? null : `${scalars.queue_prefix}/${prefix}-tier-${n + 1}`,
      next_url: last ? null : `https://${prefix}-tier-${n + 1}-${scalars.url_suffix}`,
      subscription: pubsub.enabled && pubsub.tiers.includes(n) ? `projects/${String(vars.project)}/subscriptions/${prefix}-tier-${n}-push` : null,
      max_attempts: t.max_attempts as number,
      queue_max_attempts: t.handoff_retries === null ? -1 : (t.max_attempts as number) + (t.handoff_retries as number),
      max_dispatches_per_second: t.max_dispatches_per_second as number,
      max_concurrent_dispatches: t.max_concurrent_dispatches as number,
      min_backoff: t.min_backoff as string,
      max_backoff: t.max_backoff as string,
      max_doublings: t.max_doublings as number,
      min_instances: t.min_instances as number,
      max_instances: t.max_instances as number,
      concurrency: t.concurrency as number,
      worker_timeout_seconds: t.worker_timeout_seconds as number,
      request_timeout: `${(t.worker_timeout_seconds as number) + 60}s`,
      cpu: t.cpu as string,
      memory: t.memory as string,
      worker_env: workerEnv,
    };
  });
  return out;
}

/**
 * Evaluates every `locals` entry from the HCL, in dependency order: first those that need only
 * variables and other locals, then those that read resource attributes (queue names).
 */
function evaluateLocals(infra: Infra, vars: Obj, locals: Obj, resources: () => Obj): void {
  let pending = Object.keys(infra.locals);
  const errors = new Map<string, unknown>();
  while (pending.length > 0) {
    const next: string[] = [];
    for (const name of pending) {
      const raw = infra.locals[name];
      try {
        const env = { var: vars, local: locals, data: { google_project: { this: { number: PROJECT_NUMBER } } }, ...resources() };
        locals[name] = evaluateAttribute(raw, env);
        errors.delete(name);
      } catch (err) {
        errors.set(name, err);
        next.push(name);
      }
    }
    if (next.length === pending.length) {
      const [name, err] = [...errors.entries()][0]!;
      throw new Error(`cannot evaluate local.${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    pending = next;
  }
}

/** Evaluates the chain for `tfvars` (merged over the variables' defaults). */
export function evaluateChain(infra: Infra, tfvars: Obj): Chain {
  const vars = resolveVars(infra, tfvars);
  const chain: Chain = { vars, locals: {}, tiers: {}, model: {}, scope: undefined as unknown as Scope };

  const resource = (type: string, name: string, key: string | undefined, attr: string): unknown => {
    const block = infra.resources[type]?.[name];
    if (!block) throw new Error(`reference to undeclared resource ${type}.${name}`);
    const all = instancesOf(block, scope);
    if ((all !== undefined) !== (key !== undefined)) throw new Error(`${type}.${name} referenced ${key === undefined ? 'without' : 'with'} an index`);
    const instance = all?.find((i) => i.key === key);
    if (all !== undefined && instance === undefined) throw new Error(`${type}.${name}[${key}] does not exist`);
    const inner: Scope = instance?.scope ?? scope;
    const arg = (a: string) => evalValue(block[a], inner) as string;
    if (type === 'google_cloud_tasks_queue' && attr === 'id') return `projects/${arg('project')}/locations/${arg('location')}/queues/${arg('name')}`;
    if (type === 'google_pubsub_topic' && attr === 'id') return `projects/${arg('project')}/topics/${arg('name')}`;
    // The repository's short name is its repository_id.
    if (type === 'google_artifact_registry_repository' && attr === 'name') return arg('repository_id');
    if (type === 'google_pubsub_subscription' && attr === 'id') return `projects/${arg('project')}/subscriptions/${arg('name')}`;
    if (type === 'google_service_account') {
      const email = `${arg('account_id')}@${arg('project')}.iam.gserviceaccount.com`;
      if (attr === 'email') return email;
      if (attr === 'member') return `serviceAccount:${email}`;
      if (attr === 'name' || attr === 'id') return `projects/${arg('project')}/serviceAccounts/${email}`;
    }
    if (attr in block) return arg(attr);
    throw new UnsupportedExpression(`${type}.${name}.${attr}`);
  };

  // Every resource as `refs.TYPE.NAME[KEY].ATTR`, resolved on access through `resource`.
  const refs: Obj = {};
  for (const [type, byName] of Object.entries(infra.resources)) {
    const names: Obj = {};
    for (const [name, body] of Object.entries(byName)) {
      const attrs = (key?: string) => new Proxy({}, { get: (_t, attr) => (typeof attr === 'string' ? resource(type, name, key, attr) : undefined) });
      names[name] = body.for_each !== undefined || body.count !== undefined ? new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? attrs(key) : undefined) }) : attrs();
    }
    refs[type] = names;
  }

  const scope: Scope = {
    vars,
    locals: chain.locals,
    data: { 'data.google_project.this.number': PROJECT_NUMBER },
    resource,
    refs,
  };
  chain.scope = scope;

  // Queues as `google_cloud_tasks_queue.NAME[KEY].name` for locals that read them (iam.tf).
  const queueEnv = (): Obj => {
    if (chain.locals.tiers === undefined) throw new Error('local.tiers is not evaluated yet');
    const queues: Obj = {};
    for (const name of Object.keys(infra.resources.google_cloud_tasks_queue ?? {})) {
      const block = infra.resources.google_cloud_tasks_queue![name]!;
      const attrs = (key?: string) => ({ name: resource('google_cloud_tasks_queue', name, key, 'name'), id: resource('google_cloud_tasks_queue', name, key, 'id') });
      queues[name] = block.for_each === '${local.tiers}' ? Object.fromEntries(Object.keys(chain.tiers).map((k) => [k, attrs(k)])) : attrs();
    }
    return { google_cloud_tasks_queue: queues };
  };

  evaluateLocals(infra, vars, chain.locals, () => {
    if (chain.locals.tiers === undefined) return {};
    chain.tiers = chain.locals.tiers as Record<string, TierModel>;
    return queueEnv();
  });
  chain.tiers = chain.locals.tiers as Record<string, TierModel>;
  chain.model = modelTiers(vars, { queue_prefix: chain.locals.queue_prefix as string, url_suffix: chain.locals.url_suffix as string });
  return chain;
}

/** One instance of a resource: its key (`for_each` key or `count` index) and the scope of its arguments. */
export interface Instance {
  key: string;
  scope: Scope;
}

/**
 * The instances a `for_each` (map, or set of strings) or `count` resource has in `scope`; undefined
 * for a resource without either (one instance, referenced without an index).
 */
export function instancesOf(body: Body, scope: Scope): Instance[] | undefined {
  if (body.for_each !== undefined) {
    const value = evalValue(body.for_each, scope);
    if (Array.isArray(value)) return value.map((v) => ({ key: String(v), scope: { ...scope, each: { key: String(v), value: v } } }));
    if (value === null || typeof value !== 'object') throw new Error(`for_each ${JSON.stringify(body.for_each)} is not a map or a set`);
    return Object.entries(value as Obj).map(([key, v]) => ({ key, scope: { ...scope, each: { key, value: v } } }));
  }
  if (body.count !== undefined) {
    const count = evalValue(body.count, scope);
    if (typeof count !== 'number') throw new Error(`count ${JSON.stringify(body.count)} is not a number`);
    return Array.from({ length: count }, (_, i) => ({ key: String(i), scope }));
  }
  return undefined;
}

/** The instances of `resource.TYPE.NAME` for a chain (one, keyed "", for a resource without for_each/count). */
export function instances(infra: Infra, chain: Chain, type: string, name: string): Instance[] {
  return instancesOf(resourceBody(infra, type, name), chain.scope) ?? [{ key: '', scope: chain.scope }];
}

/** Top-level arguments of a resource instance, evaluated; meta-arguments and nested blocks are left out. */
export function evaluated(body: Body, instance: Instance): Obj {
  const meta = new Set(['for_each', 'count', 'depends_on', 'lifecycle', 'provider', 'dynamic']);
  const out: Obj = {};
  for (const [name, value] of Object.entries(body)) {
    if (meta.has(name) || Array.isArray(value)) continue;
    out[name] = evalValue(value, instance.scope);
  }
  return out;
}

/** One evaluated instance of a resource, for checks across every resource of a type. */
export interface Evaluated {
  name: string;
  key: string;
  body: Body;
  scope: Scope;
  args: Obj;
}

/** Every instance of every resource of `type` in the chain, its top-level arguments evaluated. */
export function allInstances(infra: Infra, chain: Chain, type: string): Evaluated[] {
  return Object.entries(infra.resources[type] ?? {}).flatMap(([name, body]) =>
    instances(infra, chain, type, name).map((i) => ({ name, key: i.key, body, scope: i.scope, args: evaluated(body, i) })),
  );
}

/** The body of `resource.TYPE.NAME` (throws if absent). */
export function resourceBody(infra: Infra, type: string, name: string): Body {
  const block = infra.resources[type]?.[name];
  if (!block) throw new Error(`infra/ declares no ${type}.${name}`);
  return block;
}

/** The first nested block `name` of a body (hcl2json renders blocks as arrays). */
export function block(body: Body, name: string): Body {
  const list = body[name];
  if (!Array.isArray(list) || list.length === 0) throw new Error(`missing block '${name}'`);
  return list[0] as Body;
}

/** A scope for one tier inside a `for_each = local.tiers` resource. */
export function tierScope(chain: Chain, key: string): Scope {
  const value = chain.tiers[key];
  if (!value) throw new Error(`no tier ${key}`);
  return { ...chain.scope, each: { key, value } };
}

/**
 * The environment of tier `key`'s container: static `env` blocks plus the dynamic ones, evaluated.
 * Throws on a duplicate name (Cloud Run rejects it) or a dynamic block shape it cannot evaluate.
 */
export function tierEnv(infra: Infra, chain: Chain, key: string): Record<string, string> {
  const service = resourceBody(infra, 'google_cloud_run_v2_service', 'tier');
  const container = block(block(service, 'template'), 'containers');
  const scope = tierScope(chain, key);
  const env: Record<string, string> = {};
  const set = (name: unknown, value: unknown) => {
    if (typeof name !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`env name ${String(name)} is not a literal variable name`);
    if (name in env) throw new Error(`env ${name} is set twice`);
    if (typeof value !== 'string') throw new Error(`env ${name} must be a string, got ${JSON.stringify(value)}`);
    env[name] = value;
  };
  for (const e of (container.env ?? []) as Body[]) set(evalValue(e.name, scope), evalValue(e.value, scope));

  const dynamics = ((container.dynamic as Body | undefined)?.env ?? []) as Body[];
  for (const d of dynamics) {
    const forEach = String(d.for_each);
    const content = (d.content as Body[])[0]!;
    const items = evalForEach(forEach, scope);
    for (const [k, v] of items) {
      const inner: Scope = { ...scope, iter: { key: k, value: v } };
      set(evalValue(content.name, inner), evalValue(content.value, inner));
    }
  }
  return env;
}

/**
 * Evaluates the for_each shapes services.tf uses: a map reference, or
 * `X == null ? [] : [ item, … ]` where each item is a reference or `{ name = "…", value = ref }`.
 */
function evalForEach(expr: string, scope: Scope): Array<[string, unknown]> {
  const inner = /^\$\{([^]*)\}$/.exec(expr)?.[1]?.trim();
  if (inner === undefined) throw new UnsupportedExpression(expr);
  const cond = /^([\w.]+)\s*==\s*null\s*\?\s*\[\s*\]\s*:\s*\[([^]*)\]$/.exec(inner);
  if (cond) {
    if (evalExpr(cond[1]!, scope) === null) return [];
    const items: Array<[string, unknown]> = [];
    const body = cond[2]!.trim().replace(/,\s*$/, '');
    const objects = [...body.matchAll(/\{\s*name\s*=\s*"(\w+)"\s*,\s*value\s*=\s*([\w.]+)\s*\}/g)];
    if (objects.length > 0) {
      if (body.replace(/\{[^}]*\}/g, '').replace(/[\s,]/g, '') !== '') throw new UnsupportedExpression(inner);
      objects.forEach((m, i) => items.push([String(i), { name: m[1], value: evalExpr(m[2]!, scope) }]));
      return items;
    }
    body.split(',').forEach((ref, i) => items.push([String(i), evalExpr(ref, scope)]));
    return items;
  }
  const value = evalExpr(inner, scope);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UnsupportedExpression(inner);
  return Object.entries(value as Obj);
}
