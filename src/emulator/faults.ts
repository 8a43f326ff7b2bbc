/**
 * Fault injection for the emulator: rules that make CreateTask fail (before or after it creates
 * the task), drop the caller's connection, delay dispatches or deliver a push twice. The rules and
 * their matching are pure; the API layer asks {@link Faults.onCreateTask} what to do with a call
 * and the dispatch path asks {@link Faults.onDispatch}, then they act on the answer themselves.
 *
 * Rules come from the in-process API (`emulator.faults`), the `--fault` flag, or the REST control
 * endpoint `/emulator/faults` (so a separate process, e.g. the chaos runner, can switch them at
 * runtime). Production never injects anything: with no rules every call passes untouched.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { ApiError, STATUS, type StatusName } from './status.js';

/** Error codes a fault may answer with (every status but OK). */
const STATUS_NAMES = Object.keys(STATUS).filter((s) => s !== 'OK') as [StatusName, ...StatusName[]];

/** Fields every rule has. */
const common = {
  /** How many calls the rule affects before it retires; omitted: until cleared. */
  count: z.number().int().positive().optional(),
  /** Queue id (`notifier`) or full path the rule applies to; omitted: every queue. */
  queue: z.string().min(1).optional(),
};

/** One fault rule, as the API, the flag and the REST endpoint accept it. */
export const faultRuleSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** CreateTask answers an error: `before` creates nothing, `after` creates the task first (the ambiguous kind). */
    kind: z.literal('fail-create'),
    code: z.enum(STATUS_NAMES, { message: `code must be a gRPC status name (${STATUS_NAMES.join(', ')})` }).default('UNAVAILABLE'),
    phase: z.enum(['before', 'after']).default('before'),
    /** The error's message; default names the fault. */
    message: z.string().optional(),
    ...common,
  }),
  z.strictObject({
    /** The caller's connection is destroyed mid-call: `before` creates nothing, `after` creates the task first. */
    kind: z.literal('drop-create'),
    phase: z.enum(['before', 'after']).default('before'),
    ...common,
  }),
  z.strictObject({
    /** Each matching push waits `ms` before it is sent. */
    kind: z.literal('delay-dispatch'),
    ms: z.number().int().nonnegative(),
    ...common,
  }),
  z.strictObject({
    /** Each matching push is sent `copies` times at once, with the same headers (an at-least-once duplicate). */
    kind: z.literal('duplicate-dispatch'),
    copies: z.number().int().min(2).max(10).default(2),
    ...common,
  }),
]);

/** A fault rule as given (defaults optional). */
export type FaultRuleInput = z.input<typeof faultRuleSchema>;
/** A fault rule with its defaults filled in. */
export type FaultRule = z.output<typeof faultRuleSchema>;
/** An active rule: its id and how many calls it may still affect (Infinity: until cleared). */
export type ActiveFault = FaultRule & { id: string; remaining: number };

/** What the API layer does with one CreateTask call. */
export type CreateTaskFault =
  | { action: 'pass' }
  | { action: 'fail'; phase: 'before' | 'after'; code: StatusName; message: string }
  | { action: 'drop'; phase: 'before' | 'after' };

/** What the dispatch path does with one push. */
export interface DispatchFault {
  /** Wait this long before sending. */
  delayMs: number;
  /** Send this many identical pushes (1: normal). */
  copies: number;
}

/** Counters of calls the fault layer saw (whether or not a rule matched). */
export interface FaultCounters {
  /** CreateTask calls, gRPC and REST, including failed ones. */
  createTaskCalls: number;
  /** CreateTask calls a rule failed or dropped. */
  createTaskFaults: number;
  /** Pushes a rule delayed or duplicated. */
  dispatchFaults: number;
}

/** Whether `rule` applies to `queue` (a full path `projects/…/queues/Q`, or a queue id). */
export function ruleMatchesQueue(rule: Pick<FaultRule, 'queue'>, queue: string): boolean {
  if (rule.queue === undefined) return true;
  if (rule.queue === queue) return true;
  const id = queue.slice(queue.lastIndexOf('/') + 1);
  const ruleId = rule.queue.slice(rule.queue.lastIndexOf('/') + 1);
  return id === ruleId;
}

/**
 * Parses the `--fault` flag's form, `KIND[:key=value,…]`, e.g.
 * `fail-create:code=UNAVAILABLE,count=3,phase=after,queue=notifier` or `duplicate-dispatch`.
 * A bare key is `true`-ish shorthand for phase: `after` means `phase=after`.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const colon = spec.indexOf(':');
  const kind = colon === -1 ? spec : spec.slice(0, colon);
  const raw: Record<string, unknown> = { kind };
  if (colon !== -1) {
    for (const part of spec.slice(colon + 1).split(',')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      if (eq === -1) {
        if (part === 'after' || part === 'before') raw.phase = part;
        else throw faultError(spec, `'${part}' is not key=value`);
        continue;
      }
      const key = part.slice(0, eq);
      const value = part.slice(eq + 1);
      raw[key] = /^\d+$/.test(value) && key !== 'queue' && key !== 'message' ? Number(value) : value;
    }
  }
  const parsed = faultRuleSchema.safeParse(raw);
  if (!parsed.success) throw faultError(spec, parsed.error.issues.map((i) => `${i.path.join('.') || 'kind'}: ${i.message}`).join('; '));
  return parsed.data;
}

function faultError(spec: string, why: string): ConfigError {
  return new ConfigError(
    'EMULATOR_FAULT_INVALID',
    [`--fault '${spec}': ${why} (kinds: fail-create, drop-create, delay-dispatch, duplicate-dispatch; e.g. fail-create:code=UNAVAILABLE,count=3)`],
    'Invalid fault',
  );
}

/** The fault rules of one emulator and the decisions they make. */
export class Faults {
  private readonly rules: ActiveFault[] = [];
  private nextId = 1;
  private readonly counters: FaultCounters = { createTaskCalls: 0, createTaskFaults: 0, dispatchFaults: 0 };

  /** Adds a rule (validated; throws a ConfigError naming the problem); returns it with its id. */
  add(input: FaultRuleInput): ActiveFault {
    const parsed = faultRuleSchema.safeParse(input);
    if (!parsed.success) {
      throw new ConfigError('EMULATOR_FAULT_INVALID', parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`), 'Invalid fault');
    }
    const rule: ActiveFault = { ...parsed.data, id: String(this.nextId++), remaining: parsed.data.count ?? Infinity };
    this.rules.push(rule);
    return { ...rule };
  }

  /** Removes one rule by id (true when it existed), or every rule without an id. */
  clear(id?: string): boolean {
    if (id === undefined) {
      const had = this.rules.length > 0;
      this.rules.length = 0;
      return had;
    }
    const i = this.rules.findIndex((r) => r.id === id);
    if (i === -1) return false;
    this.rules.splice(i, 1);
    return true;
  }

  /** The active rules (copies). */
  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Counters since start. */
  stats(): FaultCounters {
    return { ...this.counters };
  }

  /** Decides one CreateTask call into `queue` (the request's parent); counts it. */
  onCreateTask(queue: string): CreateTaskFault {
    this.counters.createTaskCalls++;
    const rule = this.take((r) => r.kind === 'fail-create' || r.kind === 'drop-create', queue);
    if (rule === undefined) return { action: 'pass' };
    this.counters.createTaskFaults++;
    if (rule.kind === 'fail-create') {
      return { action: 'fail', phase: rule.phase, code: rule.code, message: rule.message ?? `injected fault: CreateTask answers ${rule.code} (${rule.phase} creating)` };
    }
    if (rule.kind === 'drop-create') return { action: 'drop', phase: rule.phase };
    return { action: 'pass' };
  }

  /** Decides one push of a task of `queue` (a queue id or full path). */
  onDispatch(queue: string): DispatchFault {
    if (this.rules.length === 0) return NO_DISPATCH_FAULT;
    let delayMs = 0;
    let copies = 1;
    const delay = this.take((r) => r.kind === 'delay-dispatch', queue);
    if (delay?.kind === 'delay-dispatch') delayMs = delay.ms;
    const dup = this.take((r) => r.kind === 'duplicate-dispatch', queue);
    if (dup?.kind === 'duplicate-dispatch') copies = dup.copies;
    if (delay !== undefined || dup !== undefined) this.counters.dispatchFaults++;
    return { delayMs, copies };
  }

  /** The first rule of the kind matching `queue`, with one use spent (retired when none remain). */
  private take(kind: (r: ActiveFault) => boolean, queue: string): ActiveFault | undefined {
    const i = this.rules.findIndex((r) => kind(r) && ruleMatchesQueue(r, queue));
    if (i === -1) return undefined;
    const rule = this.rules[i]!;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules.splice(i, 1);
    return rule;
  }
}

const NO_DISPATCH_FAULT: DispatchFault = Object.freeze({ delayMs: 0, copies: 1 });

/** Returned by {@link underCreateTaskFault} when the call was dropped: the caller must not answer. */
export const DROPPED: unique symbol = Symbol('dropped');

/**
 * Runs one CreateTask (`create`) under the rules: unchanged without a matching rule; otherwise it
 * throws the injected error or calls `drop` (destroy the caller's connection) and returns
 * {@link DROPPED}, before or after `create` ran as the rule's phase says. `create`'s own errors
 * (e.g. ALREADY_EXISTS) win over an `after` fault, as the task then was not created by this call.
 */
export function underCreateTaskFault<T>(faults: Faults, queue: string, create: () => T, drop: () => void): T | typeof DROPPED {
  const fault = faults.onCreateTask(queue);
  if (fault.action === 'pass') return create();
  if (fault.phase === 'after') create();
  if (fault.action === 'drop') {
    drop();
    return DROPPED;
  }
  throw new ApiError(fault.code, fault.message);
}

/**
 * Sends one push under the rules: unchanged without a matching rule; otherwise after the rule's
 * delay, and `copies` times at once with the same headers. The engine records the first copy's
 * result, as Cloud Tasks records one answer for what it believes was one dispatch.
 */
export function pushUnderFaults<R extends { headers: Record<string, string> }, T>(faults: Faults, req: R, push: (req: R) => Promise<T>): Promise<T> {
  const fault = faults.onDispatch(req.headers['x-cloudtasks-queuename'] ?? '');
  if (fault.delayMs === 0 && fault.copies === 1) return push(req);
  const send = async (): Promise<T> => {
    if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const results = await Promise.all(Array.from({ length: fault.copies }, () => push(req)));
    return results[0]!;
  };
  return send();
}
