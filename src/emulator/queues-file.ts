import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssues, messageOf, type IssuePath } from '../errors.js';
import type { QueueInput } from './model.js';
import { LOCATION_ID, PROJECT_ID, queueParent, queuePath } from '../queues/paths.js';
import type { QueuesFileTopic } from './pubsub/topics-file.js';
import { isQueueId, parseQueueName } from './names.js';

/** A duration in a queues file: "0.1s", "250ms", "5m", "1h", or a number of seconds. */
export type FileDuration = string | number;

/** One queue of a queues file (REST field names). */
export interface QueuesFileQueue {
  /** Short id, or full projects/P/locations/L/queues/Q. */
  name: string;
  /** RUNNING (default), PAUSED, or DISABLED. */
  state?: 'RUNNING' | 'PAUSED' | 'DISABLED';
  rateLimits?: { maxDispatchesPerSecond?: number; maxConcurrentDispatches?: number };
  /** Where this queue's App Engine tasks are pushed (an origin), instead of the emulator's --app-engine-host. */
  appEngineHost?: string;
  /** Routing that replaces every App Engine task's own (appEngineRoutingOverride). */
  appEngineRoutingOverride?: { service?: string; version?: string; instance?: string };
  retryConfig?: {
    maxAttempts?: number;
    minBackoff?: FileDuration;
    maxBackoff?: FileDuration;
    maxDoublings?: number;
    maxRetryDuration?: FileDuration;
  };
  /** System throttling of this queue (docs/emulator.md, "Throttling model"); default: the emulator's `--throttling`. */
  throttling?: 'model' | 'off';
  /** Emulator only: the URL of this queue's HTTP tasks that name none (firebase-admin's); default the emulator's `--default-target`. */
  defaultTarget?: string;
}

/** The queues file: queues created when the emulator starts. */
export interface QueuesFile {
  /** Project of short queue names (default 'local-project'). */
  project?: string;
  /** Location of short queue names (default 'us-central1'). */
  location?: string;
  queues?: QueuesFileQueue[];
  /** Pub/Sub topics and their subscriptions (see pubsub/topics-file.ts). */
  topics?: QueuesFileTopic[];
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/** A duration field: seconds as a number, or "0.1s", "250ms", "5m", "1h". */
export const durationField = z.union([
  z.number().nonnegative('must be a non-negative number of seconds'),
  z.string().regex(DURATION, 'must be a duration like "0.1s", "250ms", "5m" or "1h"'),
]);

const queueSchema = z.strictObject({
  name: z.string().min(1, 'is required'),
  state: z.enum(['RUNNING', 'PAUSED', 'DISABLED']).optional(),
  rateLimits: z
    .strictObject({
      maxDispatchesPerSecond: z.number().positive('must be > 0').max(500, 'must be at most 500 (the Cloud Tasks limit)').optional(),
      maxConcurrentDispatches: z.number().int('must be an integer').positive('must be > 0').max(5000, 'must be at most 5000 (the Cloud Tasks limit)').optional(),
    })
    .optional(),
  appEngineHost: z.string().regex(/^https?:\/\/[^/?#]+\/?$/, 'must be an http(s) origin like http://localhost:8081').optional(),
  appEngineRoutingOverride: z.strictObject({ service: z.string().optional(), version: z.string().optional(), instance: z.string().optional() }).optional(),
  retryConfig: z
    .strictObject({
      maxAttempts: z
        .number()
        .int('must be an integer')
        .refine((n) => n === -1 || n > 0, 'must be -1 (unlimited) or a positive integer')
        .optional(),
      minBackoff: durationField.optional(),
      maxBackoff: durationField.optional(),
      maxDoublings: z.number().int('must be an integer').nonnegative('must be >= 0').optional(),
      maxRetryDuration: durationField.optional(),
    })
    .optional(),
  throttling: z.enum(['model', 'off']).optional(),
  defaultTarget: z.string().refine(isHttpUrl, 'must be an absolute http(s) URL like http://localhost:8081/').optional(),
});

/** An absolute http(s) URL (a default target). */
export function isHttpUrl(v: string): boolean {
  return /^https?:\/\/[^\s/]/.test(v) && URL.canParse(v);
}

const fileSchema = z.strictObject({
  project: z.string().regex(PROJECT_ID, 'must be a project id').optional(),
  location: z.string().regex(LOCATION_ID, 'must be a location id like us-central1').optional(),
  queues: z.array(queueSchema).default([]),
  // Pub/Sub topics and subscriptions: validated by pubsub/topics-file.ts.
  topics: z.unknown().optional(),
});

/** Seconds (number) or a duration string → milliseconds. */
export function durationToMs(v: FileDuration): number {
  if (typeof v === 'number') return Math.round(v * 1000);
  const m = DURATION.exec(v)!;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(n * unit);
}

/** A queue of the file, resolved to its parent and the engine's input. */
export interface ResolvedQueue {
  parent: string;
  input: QueueInput;
  /** The queue's own throttling mode, when the file sets one. */
  throttling?: 'model' | 'off';
  /** The URL of the queue's tasks that name none, when the file sets one. */
  defaultTarget?: string;
}

/**
 * Parses and validates a queues file (a path to YAML, YAML text via `{ text }`, or already-parsed
 * content). Every problem is reported at once, each naming the queue and the field.
 */
export function loadQueuesFile(source: unknown): ResolvedQueue[] {
  const { raw, origin } = readQueuesSource(source);
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues, (path) => issueLabel(raw, path));
    throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', problems, `Invalid ${origin}`);
  }
  const file = parsed.data;
  const project = file.project ?? 'local-project';
  const location = file.location ?? 'us-central1';
  const problems: string[] = [];
  const seen = new Set<string>();
  const resolved: ResolvedQueue[] = [];
  file.queues.forEach((q, i) => {
    const label = `queues[${i}] (${q.name})`;
    let fullName: string;
    if (q.name.includes('/')) {
      try {
        fullName = parseQueueName(q.name).name;
      } catch (err) {
        problems.push(`${label}.name: ${messageOf(err)}`);
        return;
      }
    } else if (isQueueId(q.name)) {
      fullName = queuePath(project, location, q.name);
    } else {
      problems.push(`${label}.name: '${q.name}' is not a valid queue id (1 to 100 letters, digits or hyphens)`);
      return;
    }
    if (seen.has(fullName)) {
      problems.push(`${label}.name: queue ${fullName} is defined twice`);
      return;
    }
    seen.add(fullName);
    const r = q.retryConfig;
    const input: QueueInput = { name: fullName, state: q.state ?? 'RUNNING' };
    if (q.rateLimits) {
      const { maxDispatchesPerSecond, maxConcurrentDispatches } = q.rateLimits;
      input.rateLimits = {
        ...(maxDispatchesPerSecond !== undefined ? { maxDispatchesPerSecond } : {}),
        ...(maxConcurrentDispatches !== undefined ? { maxConcurrentDispatches } : {}),
      };
    }
    if (q.appEngineHost !== undefined) input.appEngineHost = q.appEngineHost;
    if (q.appEngineRoutingOverride !== undefined) input.appEngineRoutingOverride = { ...q.appEngineRoutingOverride };
    if (r) {
      input.retryConfig = {};
      if (r.maxAttempts !== undefined) input.retryConfig.maxAttempts = r.maxAttempts;
      if (r.maxDoublings !== undefined) input.retryConfig.maxDoublings = r.maxDoublings;
      if (r.minBackoff !== undefined) input.retryConfig.minBackoffMs = durationToMs(r.minBackoff);
      if (r.maxBackoff !== undefined) input.retryConfig.maxBackoffMs = durationToMs(r.maxBackoff);
      if (r.maxRetryDuration !== undefined) input.retryConfig.maxRetryDurationMs = durationToMs(r.maxRetryDuration);
      const min = input.retryConfig.minBackoffMs ?? 100;
      const max = input.retryConfig.maxBackoffMs ?? 3_600_000;
      if (min > max) problems.push(`${label}.retryConfig: minBackoff (${min / 1000}s) must not exceed maxBackoff (${max / 1000}s)`);
    }
    const entry: ResolvedQueue = { parent: queueParent(fullName), input };
    if (q.throttling !== undefined) entry.throttling = q.throttling;
    if (q.defaultTarget !== undefined) entry.defaultTarget = q.defaultTarget;
    resolved.push(entry);
  });
  if (problems.length > 0) throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', problems, `Invalid ${origin}`);
  return resolved;
}

/**
 * The content of a queues file source (a path to YAML, YAML text via `{ text }`, or parsed
 * content) and how to name it in errors. Shared with the Pub/Sub section's loader.
 */
export function readQueuesSource(source: unknown): { raw: unknown; origin: string } {
  let raw: unknown = source;
  let origin = 'queues file';
  if (typeof source === 'string') {
    origin = `queues file ${source}`;
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', [`cannot read ${source}: ${messageOf(err)}`], `Invalid ${origin}`);
    }
    raw = parseYamlText(text, origin);
  } else if (source !== null && typeof source === 'object' && 'text' in source && typeof source.text === 'string') {
    raw = parseYamlText(source.text, origin);
  }
  return { raw: raw ?? {}, origin };
}

function parseYamlText(text: string, origin: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new ConfigError('EMULATOR_QUEUES_FILE_INVALID', [`not valid YAML: ${messageOf(err)}`], `Invalid ${origin}`);
  }
}

/** Where an issue points: "queues[2] (slow).retryConfig.minBackoff", or "(file)". */
function issueLabel(raw: unknown, path: IssuePath): string {
  let label = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  if (path[0] === 'queues' && typeof path[1] === 'number') {
    const q = (raw as { queues?: Array<{ name?: unknown }> }).queues?.[path[1]];
    const name = typeof q?.name === 'string' ? ` (${q.name})` : '';
    const rest = path.slice(2).map(String).join('.');
    label = `queues[${path[1]}]${name}${rest ? `.${rest}` : ''}`;
  }
  return label || '(file)';
}
