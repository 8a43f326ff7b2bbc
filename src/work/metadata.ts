/**
 * The delivery facts an out-of-process worker receives next to the payload: as HTTP headers for an
 * HTTP worker, as environment variables for a command. One table, so both stay in step.
 */
import type { Job, RunContext } from './types.js';

/** One delivery fact and the two names it travels under. */
interface MetadataField {
  /** HTTP header name (sent lower-case; shown here in its documented spelling). */
  header: string;
  /** Environment variable name. */
  env: string;
  /** The value, or undefined to leave the field out. */
  value: (job: Job, ctx: RunContext) => string | undefined;
}

/** JSON with every character outside printable ASCII escaped (`\\uXXXX`), so it is a valid header value. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const FIELDS: readonly MetadataField[] = [
  { header: 'X-Executor-Attempt', env: 'EXECUTOR_ATTEMPT', value: (_j, c) => String(c.attempt) },
  { header: 'X-Executor-Max-Attempts', env: 'EXECUTOR_MAX_ATTEMPTS', value: (_j, c) => String(c.maxAttempts) },
  { header: 'X-Executor-Retry-Count', env: 'EXECUTOR_RETRY_COUNT', value: (_j, c) => String(c.retryCount) },
  { header: 'X-Executor-Execution-Count', env: 'EXECUTOR_EXECUTION_COUNT', value: (_j, c) => String(c.executionCount) },
  { header: 'X-Executor-Tier', env: 'EXECUTOR_TIER', value: (_j, c) => String(c.tier) },
  { header: 'X-Executor-Queue', env: 'EXECUTOR_QUEUE', value: (_j, c) => c.queue },
  { header: 'X-Executor-Task', env: 'EXECUTOR_TASK', value: (_j, c) => c.taskName },
  { header: 'X-Executor-Format', env: 'EXECUTOR_FORMAT', value: (j) => j.format },
  { header: 'X-Executor-Subscription', env: 'EXECUTOR_SUBSCRIPTION', value: (_j, c) => c.pubsub?.subscription },
  { header: 'X-Executor-Message-Id', env: 'EXECUTOR_MESSAGE_ID', value: (_j, c) => c.pubsub?.messageId },
  // JSON, ASCII-only, so any attribute (names and values are free text) travels in one header or variable.
  { header: 'X-Executor-Attributes', env: 'EXECUTOR_ATTRIBUTES', value: (_j, c) => (c.pubsub !== undefined ? asciiJson(c.pubsub.attributes) : undefined) },
];

/** The documented names, for docs and tests: `[header, env]` pairs. */
export const METADATA_NAMES: readonly (readonly [header: string, env: string])[] = FIELDS.map((f) => [f.header, f.env] as const);

/** Delivery metadata as HTTP headers (lower-case names). */
export function metadataHeaders(job: Job, ctx: RunContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = f.value(job, ctx);
    if (v !== undefined) headers[f.header.toLowerCase()] = v;
  }
  return headers;
}

/** Delivery metadata as environment variables. Fields without a value are absent, not empty. */
export function metadataEnv(job: Job, ctx: RunContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = f.value(job, ctx);
    if (v !== undefined) env[f.env] = v;
  }
  return env;
}
