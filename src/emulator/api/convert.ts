/**
 * Conversions between the internal model and the two wire forms of the v2 API:
 * - gRPC objects as @grpc/proto-loader gives them (camelCase fields, enums as names, int64 as
 *   numbers, bytes as Buffer, Duration/Timestamp as { seconds, nanos });
 * - REST/JSON in the proto3 JSON mapping (camelCase, Durations "3.5s", Timestamps RFC 3339,
 *   bytes base64, enums as names, or numbers when the client asks `$alt=json;enum-encoding=int`).
 * Inputs are validated here (zod on REST) so the engine only sees well-typed values.
 */
import { z } from 'zod';
import type { IamBinding, IamPolicy } from '../engine/iam.js';
import { appEngineHost } from '../engine/task-input.js';
import type { AppEngineInput, AppEngineRouting, HttpMethod, PushAuth, QueueInput, QueueRecord, QueueState, TaskInput, TaskRecord, TaskView } from '../model.js';
import { invalidArgument } from '../status.js';

// ---- enums --------------------------------------------------------------------------------------

const QUEUE_STATES = ['STATE_UNSPECIFIED', 'RUNNING', 'PAUSED', 'DISABLED'] as const;
const HTTP_METHODS = ['HTTP_METHOD_UNSPECIFIED', 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const VIEWS = ['VIEW_UNSPECIFIED', 'BASIC', 'FULL'] as const;

function enumValue<T extends readonly string[]>(values: T, v: unknown, field: string): T[number] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < values.length) return values[v];
  if (typeof v === 'string') {
    if ((values as readonly string[]).includes(v)) return v;
    if (/^\d+$/.test(v) && Number(v) < values.length) return values[Number(v)];
  }
  throw invalidArgument(`Invalid value for ${field}: ${JSON.stringify(v)} (expected one of ${values.join(', ')}).`);
}

/** Parses a task view from either wire; BASIC when unset. */
export function parseView(v: unknown): TaskView {
  const view = enumValue(VIEWS, v, 'response_view');
  return view === 'FULL' ? 'FULL' : 'BASIC';
}

function httpMethodOf(v: unknown): HttpMethod {
  const m = enumValue(HTTP_METHODS, v, 'http_request.http_method');
  return m === undefined || m === 'HTTP_METHOD_UNSPECIFIED' ? 'POST' : m;
}

function queueStateOf(v: unknown): QueueState | undefined {
  const s = enumValue(QUEUE_STATES, v, 'queue.state');
  return s === undefined || s === 'STATE_UNSPECIFIED' ? undefined : s;
}

// ---- durations and timestamps -------------------------------------------------------------------

/** google.protobuf.Duration / Timestamp as proto-loader decodes them. */
interface SecondsNanos {
  seconds?: number | string | null;
  nanos?: number | null;
}

/** google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;
/** google.protobuf.Duration's range: ±10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000;

/** The finite seconds and nanos of a Duration or Timestamp; INVALID_ARGUMENT for anything else. */
function secondsNanosOf(v: SecondsNanos, field: string): { seconds: number; nanos: number } {
  const seconds = Number(v.seconds ?? 0);
  const nanos = Number(v.nanos ?? 0);
  if (!Number.isInteger(seconds) || !Number.isInteger(nanos)) throw invalidArgument(`Invalid value for ${field}: seconds and nanos must be integers.`);
  return { seconds, nanos };
}

/** A gRPC google.protobuf.Timestamp in milliseconds; INVALID_ARGUMENT outside the type's range (year 1 to 9999, nanos 0 to 999,999,999). */
function timestampToMs(v: SecondsNanos | null | undefined, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const { seconds, nanos } = secondsNanosOf(v, field);
  if (nanos < 0 || nanos > 999_999_999) throw invalidArgument(`Invalid value for ${field}: nanos must be between 0 and 999999999, got ${nanos}.`);
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    throw invalidArgument(`Invalid value for ${field}: seconds must be between ${MIN_TIMESTAMP_SECONDS} (0001-01-01) and ${MAX_TIMESTAMP_SECONDS} (9999-12-31), got ${seconds}.`);
  }
  return seconds * 1000 + Math.round(nanos / 1e6);
}

/** A gRPC google.protobuf.Duration in milliseconds; INVALID_ARGUMENT outside the type's range or with nanos of the wrong sign. */
function durationToMs(v: SecondsNanos | null | undefined, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const { seconds, nanos } = secondsNanosOf(v, field);
  if (nanos < -999_999_999 || nanos > 999_999_999 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    throw invalidArgument(`Invalid value for ${field}: nanos must be between -999999999 and 999999999 with the sign of seconds, got ${nanos}.`);
  }
  if (Math.abs(seconds) > MAX_DURATION_SECONDS) throw invalidArgument(`Invalid value for ${field}: seconds must be within ±${MAX_DURATION_SECONDS}, got ${seconds}.`);
  return seconds * 1000 + Math.round(nanos / 1e6);
}

function msToSecondsNanos(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Parses a proto3 JSON Duration ("3.5s"); numbers are taken as seconds. */
export function parseDurationJson(v: string | number, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  const m = typeof v === 'string' ? /^\s*(-?\d+(?:\.\d{1,9})?)s\s*$/.exec(v) : null;
  if (!m) throw invalidArgument(`Invalid duration for ${field}: ${JSON.stringify(v)} (expected e.g. "0.1s" or "3600s").`);
  return Math.round(Number(m[1]) * 1000);
}

/** Formats milliseconds as a proto3 JSON Duration ("0.100s", "3600s"). */
export function formatDurationJson(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

function parseTimestampJson(v: string, field: string): number {
  // RFC 3339 with optional fraction (up to nanoseconds) and offset. Each field is checked against
  // the calendar: Date.parse would roll 2024-02-30 over to March 1 instead of refusing it.
  const bad = (why: string): never => {
    throw invalidArgument(`Invalid timestamp for ${field}: ${JSON.stringify(v)} ${why}.`);
  };
  const m = RFC3339.exec(v);
  if (m === null) return bad('(expected RFC 3339, e.g. "2024-01-01T00:00:00Z")');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1) bad('(the year must be 0001 or later)');
  if (month < 1 || month > 12) bad(`(no month ${month})`);
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
  if (day < 1 || day > daysInMonth) bad(`(month ${month} of ${year} has ${daysInMonth} days)`);
  if (hour > 23 || minute > 59 || second > 59) bad('(hours go to 23, minutes and seconds to 59)');
  const offsetMinutes = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  if (m[8] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) bad('(the offset is out of range)');
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, Number((m[7] ?? '.0').slice(1, 4).padEnd(3, '0')));
  const ms = utc.getTime() - offsetMinutes * 60_000;
  if (ms < MIN_TIMESTAMP_SECONDS * 1000 || ms > MAX_TIMESTAMP_SECONDS * 1000 + 999) bad('(outside 0001-01-01 to 9999-12-31 in UTC)');
  return ms;
}

const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const formatTimestampJson = (ms: number): string => new Date(ms).toISOString();

// ---- gRPC in ------------------------------------------------------------------------------------

/** A Queue message as proto-loader decodes it (only the fields we read). */
/** AppEngineRouting as either wire carries it (host is output only and ignored). */
interface WireRouting {
  service?: string | undefined;
  version?: string | undefined;
  instance?: string | undefined;
  host?: string | undefined;
}

export interface GrpcQueue {
  name?: string;
  appEngineRoutingOverride?: WireRouting | null;
  rateLimits?: { maxDispatchesPerSecond?: number; maxBurstSize?: number; maxConcurrentDispatches?: number } | null;
  retryConfig?: {
    maxAttempts?: number;
    maxRetryDuration?: SecondsNanos | null;
    minBackoff?: SecondsNanos | null;
    maxBackoff?: SecondsNanos | null;
    maxDoublings?: number;
  } | null;
  state?: string | number;
  stackdriverLoggingConfig?: { samplingRatio?: number } | null;
}

/** A Task message as proto-loader decodes it. */
export interface GrpcTask {
  name?: string;
  httpRequest?: {
    url?: string;
    httpMethod?: string | number;
    headers?: Record<string, string> | null;
    body?: Buffer | Uint8Array | null;
    oauthToken?: { serviceAccountEmail?: string; scope?: string } | null;
    oidcToken?: { serviceAccountEmail?: string; audience?: string } | null;
  } | null;
  appEngineHttpRequest?: {
    httpMethod?: string | number;
    appEngineRouting?: WireRouting | null;
    relativeUri?: string;
    headers?: Record<string, string> | null;
    body?: Buffer | Uint8Array | null;
  } | null;
  scheduleTime?: SecondsNanos | null;
  dispatchDeadline?: SecondsNanos | null;
}

/** The fields of a Queue message both wire forms carry alike; only durations are written differently. */
interface QueueFields<D> {
  name?: string | undefined;
  rateLimits?: { maxDispatchesPerSecond?: number | undefined; maxConcurrentDispatches?: number | undefined } | null | undefined;
  retryConfig?:
    | {
        maxAttempts?: number | undefined;
        maxDoublings?: number | undefined;
        minBackoff?: D | null | undefined;
        maxBackoff?: D | null | undefined;
        maxRetryDuration?: D | null | undefined;
      }
    | null
    | undefined;
  state?: unknown;
  stackdriverLoggingConfig?: { samplingRatio?: number | undefined } | null | undefined;
}

/** Builds the engine's QueueInput from either wire form; `duration` reads that form's durations (undefined when unset). */
function queueInputOf<D>(
  q: QueueFields<D>,
  appEngineRoutingOverride: WireRouting | null | undefined,
  duration: (v: D | null | undefined, field: string) => number | undefined,
): QueueInput {
  const input: QueueInput = {};
  if (q.name) input.name = q.name;
  if (appEngineRoutingOverride !== undefined && appEngineRoutingOverride !== null) input.appEngineRoutingOverride = routingOf(appEngineRoutingOverride);
  if (q.rateLimits) {
    input.rateLimits = {};
    const rate = q.rateLimits.maxDispatchesPerSecond;
    // NaN is falsy, so further on it would read as "unset" (0) and get the default rate.
    if (rate !== undefined && !Number.isFinite(rate)) throw invalidArgument(`rate_limits.max_dispatches_per_second must be a finite number, got ${rate}.`);
    if (rate !== undefined) input.rateLimits.maxDispatchesPerSecond = rate;
    if (q.rateLimits.maxConcurrentDispatches !== undefined) input.rateLimits.maxConcurrentDispatches = q.rateLimits.maxConcurrentDispatches;
  }
  if (q.retryConfig) {
    const r = q.retryConfig;
    input.retryConfig = {};
    if (r.maxAttempts !== undefined) input.retryConfig.maxAttempts = r.maxAttempts;
    if (r.maxDoublings !== undefined) input.retryConfig.maxDoublings = r.maxDoublings;
    const minB = duration(r.minBackoff, 'retryConfig.minBackoff');
    const maxB = duration(r.maxBackoff, 'retryConfig.maxBackoff');
    const maxD = duration(r.maxRetryDuration, 'retryConfig.maxRetryDuration');
    if (minB !== undefined) input.retryConfig.minBackoffMs = minB;
    if (maxB !== undefined) input.retryConfig.maxBackoffMs = maxB;
    if (maxD !== undefined) input.retryConfig.maxRetryDurationMs = maxD;
  }
  const state = queueStateOf(q.state);
  if (state) input.state = state;
  const ratio = q.stackdriverLoggingConfig?.samplingRatio;
  if (ratio !== undefined && !Number.isFinite(ratio)) throw invalidArgument(`stackdriver_logging_config.sampling_ratio must be a finite number, got ${ratio}.`);
  if (q.stackdriverLoggingConfig) input.stackdriverSamplingRatio = q.stackdriverLoggingConfig.samplingRatio ?? 0;
  return input;
}

/** Queue input from a gRPC Queue message. */
export function queueFromGrpc(q: GrpcQueue | null | undefined): QueueInput {
  if (q === undefined || q === null) throw invalidArgument('queue is required.');
  return queueInputOf(q, q.appEngineRoutingOverride, durationToMs);
}

/** The settable part of an AppEngineRouting (empty strings are unset in proto3). */
function routingOf(r: WireRouting): AppEngineRouting {
  const out: AppEngineRouting = {};
  if (r.service) out.service = r.service;
  if (r.version) out.version = r.version;
  if (r.instance) out.instance = r.instance;
  return out;
}

/** An App Engine request from either wire; `body` is already decoded. */
function appEngineInputOf(
  ae: { httpMethod?: unknown; appEngineRouting?: WireRouting | null | undefined; relativeUri?: string | undefined; headers?: Record<string, string> | null | undefined },
  body: Buffer | undefined,
): AppEngineInput {
  const input: AppEngineInput = {
    httpMethod: httpMethodOf(ae.httpMethod),
    relativeUri: ae.relativeUri ?? '',
    headers: { ...(ae.headers ?? {}) },
  };
  if (body !== undefined && body.length > 0) input.body = body;
  if (ae.appEngineRouting) input.routing = routingOf(ae.appEngineRouting);
  return input;
}

/** Task input from a gRPC Task message. */
export function taskFromGrpc(t: GrpcTask | null | undefined): TaskInput {
  if (t === undefined || t === null) throw invalidArgument('task is required.');
  const input: TaskInput = {};
  if (t.name) input.name = t.name;
  const ae = t.appEngineHttpRequest;
  if (ae) input.appEngine = appEngineInputOf(ae, ae.body ? Buffer.from(ae.body) : undefined);
  const h = t.httpRequest;
  if (h) {
    let auth: PushAuth | undefined;
    if (h.oidcToken) auth = { kind: 'oidc', serviceAccountEmail: h.oidcToken.serviceAccountEmail ?? '', audience: h.oidcToken.audience ?? '' };
    else if (h.oauthToken) auth = { kind: 'oauth', serviceAccountEmail: h.oauthToken.serviceAccountEmail ?? '', scope: h.oauthToken.scope ?? '' };
    input.http = { url: h.url ?? '', httpMethod: httpMethodOf(h.httpMethod), headers: { ...(h.headers ?? {}) } };
    if (h.body && h.body.length > 0) input.http.body = Buffer.from(h.body);
    if (auth) input.http.auth = auth;
  }
  const schedule = timestampToMs(t.scheduleTime, 'task.schedule_time');
  if (schedule !== undefined && schedule !== 0) input.scheduleTimeMs = schedule;
  const deadline = durationToMs(t.dispatchDeadline, 'task.dispatch_deadline');
  if (deadline !== undefined && deadline !== 0) input.dispatchDeadlineMs = deadline;
  return input;
}

// ---- gRPC out -----------------------------------------------------------------------------------

// ---- out: one rendering per resource, two wire forms ------------------------------------------

/**
 * How a wire form writes the types gRPC objects and proto3 JSON disagree on. Queues and tasks are
 * rendered once, by {@link renderQueue} and {@link renderTask}, for both forms.
 */
interface WireForm {
  /** Timestamps: `{ seconds, nanos }` for gRPC, RFC 3339 for JSON. */
  time(ms: number): unknown;
  /** Durations: `{ seconds, nanos }` for gRPC, `"3.5s"` for JSON. */
  duration(ms: number): unknown;
  /** Bytes: a Buffer for gRPC, base64 for JSON. */
  bytes(b: Buffer): unknown;
  /** Enums as their numbers (directly encodable by protobufjs; REST's `$alt=json;enum-encoding=int`). */
  numericEnums: boolean;
}

const GRPC_FORM: WireForm = { time: msToSecondsNanos, duration: msToSecondsNanos, bytes: (b) => b, numericEnums: false };
const GRPC_NUMERIC_FORM: WireForm = { ...GRPC_FORM, numericEnums: true };
const JSON_FORM: WireForm = { time: formatTimestampJson, duration: formatDurationJson, bytes: (b) => b.toString('base64'), numericEnums: false };
const JSON_NUMERIC_FORM: WireForm = { ...JSON_FORM, numericEnums: true };

function enumOut<T extends readonly string[]>(values: T, v: T[number], form: WireForm): string | number {
  return form.numericEnums ? values.indexOf(v) : v;
}

function renderQueue(q: QueueRecord, form: WireForm): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: q.name,
    rateLimits: { ...q.rateLimits },
    retryConfig: {
      maxAttempts: q.retryConfig.maxAttempts,
      // Production leaves an unlimited (0) max_retry_duration unset rather than reporting "0s".
      ...(q.retryConfig.maxRetryDurationMs > 0 ? { maxRetryDuration: form.duration(q.retryConfig.maxRetryDurationMs) } : {}),
      minBackoff: form.duration(q.retryConfig.minBackoffMs),
      maxBackoff: form.duration(q.retryConfig.maxBackoffMs),
      maxDoublings: q.retryConfig.maxDoublings,
    },
    state: enumOut(QUEUE_STATES, q.state, form),
  };
  if (q.purgeTimeMs !== undefined) out.purgeTime = form.time(q.purgeTimeMs);
  if (q.stackdriverSamplingRatio !== undefined) out.stackdriverLoggingConfig = { samplingRatio: q.stackdriverSamplingRatio };
  if (q.appEngineRoutingOverride !== undefined) {
    out.appEngineRoutingOverride = { ...q.appEngineRoutingOverride, host: appEngineHost(q.name.split('/')[1]!, q.appEngineRoutingOverride) };
  }
  return out;
}

function renderTask(t: TaskRecord, view: TaskView, form: WireForm): Record<string, unknown> {
  const http: Record<string, unknown> = { httpMethod: enumOut(HTTP_METHODS, t.http.httpMethod, form) };
  if (t.appEngine !== undefined) {
    http.appEngineRouting = { ...t.appEngine.routing, host: t.appEngine.host };
    http.relativeUri = t.appEngine.relativeUri;
  } else {
    http.url = t.http.url;
  }
  http.headers = t.http.headers;
  if (view === 'FULL' && t.http.body !== undefined) http.body = form.bytes(t.http.body);
  const auth = t.http.auth;
  // An unset audience or scope is left out: proto3 does not tell it from "" on the wire.
  if (auth?.kind === 'oidc') http.oidcToken = { serviceAccountEmail: auth.serviceAccountEmail, ...(auth.audience ? { audience: auth.audience } : {}) };
  if (auth?.kind === 'oauth') http.oauthToken = { serviceAccountEmail: auth.serviceAccountEmail, ...(auth.scope ? { scope: auth.scope } : {}) };
  const out: Record<string, unknown> = {
    name: t.name,
    [t.appEngine !== undefined ? 'appEngineHttpRequest' : 'httpRequest']: http,
    scheduleTime: form.time(t.scheduleTimeMs),
    createTime: form.time(t.createTimeMs),
    dispatchDeadline: form.duration(t.dispatchDeadlineMs),
    dispatchCount: t.dispatchCount,
    responseCount: t.responseCount,
    view: enumOut(VIEWS, view, form),
  };
  if (t.firstAttempt) out.firstAttempt = { dispatchTime: form.time(t.firstAttempt.dispatchTimeMs) };
  if (t.lastAttempt) {
    const a = t.lastAttempt;
    const last: Record<string, unknown> = { scheduleTime: form.time(a.scheduleTimeMs), dispatchTime: form.time(a.dispatchTimeMs) };
    if (a.responseTimeMs !== undefined) last.responseTime = form.time(a.responseTimeMs);
    if (a.responseStatus) last.responseStatus = { code: a.responseStatus.code, message: a.responseStatus.message };
    out.lastAttempt = last;
  }
  return out;
}

/** A Queue message for grpc-js. */
export function queueToGrpc(q: QueueRecord): Record<string, unknown> {
  return renderQueue(q, GRPC_FORM);
}

/**
 * A Task message for grpc-js. With `numericEnums` the enums are their numbers, which makes the
 * object directly encodable by protobufjs' `Type.encode` (no `fromObject` pass).
 */
export function taskToGrpc(t: TaskRecord, view: TaskView, numericEnums = false): Record<string, unknown> {
  return renderTask(t, view, numericEnums ? GRPC_NUMERIC_FORM : GRPC_FORM);
}

// ---- REST in ------------------------------------------------------------------------------------

const snakeToCamel = (k: string): string => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * proto3 JSON parsers accept the original snake_case field names as well as lowerCamelCase;
 * normalise to camelCase, leaving the keys of map fields (HTTP headers) untouched.
 */
export function camelizeKeys(v: unknown, mapKeys = false): unknown {
  if (Array.isArray(v)) return v.map((x) => camelizeKeys(x));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const key = mapKeys ? k : snakeToCamel(k);
    out[key] = key === 'headers' && !mapKeys ? camelizeKeys(val, true) : mapKeys ? val : camelizeKeys(val);
  }
  return out;
}

// proto3 JSON writes doubles as numbers or strings, including "NaN" and "±Infinity" (refused later by field).
const num = z.union([z.number(), z.string().regex(/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|NaN|-?Infinity)$/).transform(Number)]);
const int = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
const duration = z.union([z.string(), z.number()]);
const enumLike = z.union([z.string(), z.number()]);

const restRoutingSchema = z.strictObject({
  service: z.string().optional(),
  version: z.string().optional(),
  instance: z.string().optional(),
  host: z.string().optional(),
});

const restQueueSchema = z.strictObject({
  name: z.string().optional(),
  appEngineRoutingOverride: restRoutingSchema.optional(),
  rateLimits: z
    .strictObject({ maxDispatchesPerSecond: num.optional(), maxBurstSize: int.optional(), maxConcurrentDispatches: int.optional() })
    .optional(),
  retryConfig: z
    .strictObject({
      maxAttempts: int.optional(),
      maxRetryDuration: duration.optional(),
      minBackoff: duration.optional(),
      maxBackoff: duration.optional(),
      maxDoublings: int.optional(),
    })
    .optional(),
  state: enumLike.optional(),
  purgeTime: z.string().optional(),
  stackdriverLoggingConfig: z.strictObject({ samplingRatio: num.optional() }).optional(),
});

const restTaskSchema = z.strictObject({
  name: z.string().optional(),
  httpRequest: z
    .strictObject({
      url: z.string().optional(),
      httpMethod: enumLike.optional(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
      oauthToken: z.strictObject({ serviceAccountEmail: z.string().optional(), scope: z.string().optional() }).optional(),
      oidcToken: z.strictObject({ serviceAccountEmail: z.string().optional(), audience: z.string().optional() }).optional(),
    })
    .optional(),
  appEngineHttpRequest: z
    .strictObject({
      httpMethod: enumLike.optional(),
      appEngineRouting: restRoutingSchema.optional(),
      relativeUri: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
    })
    .optional(),
  scheduleTime: z.string().optional(),
  dispatchDeadline: duration.optional(),
  // Output-only fields a client may echo back; ignored as production does.
  createTime: z.string().optional(),
  dispatchCount: int.optional(),
  responseCount: int.optional(),
  firstAttempt: z.unknown().optional(),
  lastAttempt: z.unknown().optional(),
  view: enumLike.optional(),
});

/** Turns a zod failure into production's INVALID_ARGUMENT wording. */
function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [what, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    throw invalidArgument(`Invalid JSON payload received. Unknown name "${issue.keys.join('", "')}" at '${path}': Cannot find field.`);
  }
  throw invalidArgument(`Invalid JSON payload received. Invalid value at '${path}': ${issue.message}.`);
}

/** A proto3 JSON bytes field (base64 or base64url); undefined when absent or empty. */
function bytesJson(v: string | undefined, field: string): Buffer | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw invalidArgument(`Invalid JSON payload received. Invalid value at '${field}' (TYPE_BYTES): not base64.`);
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
}

/** Queue input from a REST Queue JSON object. */
export function queueFromJson(json: unknown): QueueInput {
  if (json === undefined || json === null) throw invalidArgument('queue is required.');
  const q = parseOrThrow(restQueueSchema, camelizeKeys(json), 'queue');
  return queueInputOf(q, q.appEngineRoutingOverride, (v, field) => (v === undefined || v === null ? undefined : parseDurationJson(v, field)));
}

/** Task input from a REST Task JSON object. */
export function taskFromJson(json: unknown): TaskInput {
  if (json === undefined || json === null) throw invalidArgument('task is required.');
  const t = parseOrThrow(restTaskSchema, camelizeKeys(json), 'task');
  const input: TaskInput = {};
  if (t.name) input.name = t.name;
  const ae = t.appEngineHttpRequest;
  if (ae) input.appEngine = appEngineInputOf(ae, bytesJson(ae.body, 'task.app_engine_http_request.body'));
  const h = t.httpRequest;
  if (h) {
    input.http = { url: h.url ?? '', httpMethod: httpMethodOf(h.httpMethod), headers: { ...(h.headers ?? {}) } };
    const body = bytesJson(h.body, 'task.http_request.body');
    if (body !== undefined) input.http.body = body;
    if (h.oidcToken) {
      input.http.auth = { kind: 'oidc', serviceAccountEmail: h.oidcToken.serviceAccountEmail ?? '', audience: h.oidcToken.audience ?? '' };
    } else if (h.oauthToken) {
      input.http.auth = { kind: 'oauth', serviceAccountEmail: h.oauthToken.serviceAccountEmail ?? '', scope: h.oauthToken.scope ?? '' };
    }
  }
  if (t.scheduleTime !== undefined) {
    const ms = parseTimestampJson(t.scheduleTime, 'task.schedule_time');
    if (ms !== 0) input.scheduleTimeMs = ms;
  }
  if (t.dispatchDeadline !== undefined) {
    const ms = parseDurationJson(t.dispatchDeadline, 'task.dispatch_deadline');
    if (ms !== 0) input.dispatchDeadlineMs = ms;
  }
  return input;
}

// ---- REST out -----------------------------------------------------------------------------------

/** How enums are written in REST responses. */
export interface JsonStyle {
  numericEnums: boolean;
}

/** A Queue in proto3 JSON. */
export function queueToJson(q: QueueRecord, style: JsonStyle): Record<string, unknown> {
  return renderQueue(q, style.numericEnums ? JSON_NUMERIC_FORM : JSON_FORM);
}

/** A Task in proto3 JSON. */
export function taskToJson(t: TaskRecord, view: TaskView, style: JsonStyle): Record<string, unknown> {
  return renderTask(t, view, style.numericEnums ? JSON_NUMERIC_FORM : JSON_FORM);
}

// ---- IAM policies -------------------------------------------------------------------------------

/** A google.iam.v1.Policy as either wire decodes it (etag: bytes for gRPC, base64 for JSON). */
interface WirePolicy {
  bindings?: Array<{ role?: string; members?: string[] | null; condition?: Record<string, unknown> | null }> | null;
  etag?: Buffer | Uint8Array | string | null;
}

function bindingsOf(p: WirePolicy): IamBinding[] {
  if (p.bindings !== undefined && p.bindings !== null && !Array.isArray(p.bindings)) throw invalidArgument('policy.bindings must be a list.');
  return (p.bindings ?? []).map((b) => {
    const binding: IamBinding = { role: String(b.role ?? ''), members: (b.members ?? []).map(String) };
    const c = b.condition;
    if (c !== undefined && c !== null && typeof c.expression === 'string' && c.expression !== '') {
      binding.condition = { expression: c.expression };
      for (const k of ['title', 'description', 'location'] as const) if (typeof c[k] === 'string' && c[k] !== '') binding.condition[k] = c[k];
    }
    return binding;
  });
}

/** The policy a SetIamPolicy request carries, from either wire. */
export function policyFromWire(policy: unknown): { bindings: IamBinding[]; etag?: Buffer } {
  if (policy === undefined || policy === null || typeof policy !== 'object') throw invalidArgument('policy is required.');
  const p = policy as WirePolicy;
  const out: { bindings: IamBinding[]; etag?: Buffer } = { bindings: bindingsOf(p) };
  if (typeof p.etag === 'string' && p.etag !== '') out.etag = Buffer.from(p.etag, 'base64');
  else if (p.etag instanceof Uint8Array && p.etag.length > 0) out.etag = Buffer.from(p.etag);
  return out;
}

/** A Policy message for grpc-js, or in proto3 JSON (etag base64) with `json`. */
export function policyToWire(p: IamPolicy, json: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { etag: json ? p.etag.toString('base64') : p.etag };
  if (p.version !== 0) out.version = p.version;
  if (p.bindings.length > 0) out.bindings = p.bindings.map((b) => ({ ...b, members: [...b.members] }));
  return out;
}
