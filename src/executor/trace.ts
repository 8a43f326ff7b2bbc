/**
 * Trace correlation for Cloud Logging: reads the W3C `traceparent` or Google's
 * `X-Cloud-Trace-Context` header and returns the fields that make Cloud Logging group a request's
 * log lines under its trace; and picks the trace headers every task the executor creates carries
 * on, so the next tier (and the client's webhook) continue the same trace.
 */
import { propagation, trace, type Context } from '@opentelemetry/api';
import type { HeaderBag } from './delivery.js';

/** Cloud Logging's special trace fields. */
// A type alias (not an interface) so callers can add fields to it as a plain record.
export type TraceFields = {
  'logging.googleapis.com/trace'?: string;
  'logging.googleapis.com/spanId'?: string;
  'logging.googleapis.com/trace_sampled'?: boolean;
};

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A request's trace, from its headers. */
interface TraceIds {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId?: string;
  sampled?: boolean;
}

/** The trace a request carries: W3C `traceparent`, else `X-Cloud-Trace-Context`; undefined when neither is valid. */
function readTrace(headers: HeaderBag): TraceIds | undefined {
  const parent = first(headers.traceparent);
  const w3c = parent !== undefined ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(parent.trim()) : null;
  if (w3c && !/^0+$/.test(w3c[1]!)) return { traceId: w3c[1]!, spanId: w3c[2]!, sampled: (parseInt(w3c[3]!, 16) & 1) === 1 };
  const cloud = first(headers['x-cloud-trace-context']);
  const match = cloud !== undefined ? /^([0-9a-fA-F]{32})(?:\/(\d+))?(?:;o=([01]))?/.exec(cloud.trim()) : null;
  if (!match) return undefined;
  const ids: TraceIds = { traceId: match[1]!.toLowerCase() };
  // Cloud Logging wants the span id as 16 hex digits; the legacy header carries it in decimal.
  if (match[2] !== undefined) ids.spanId = BigInt(match[2]).toString(16).padStart(16, '0').slice(-16);
  if (match[3] !== undefined) ids.sampled = match[3] === '1';
  return ids;
}

/** Trace fields for a request; empty when no valid trace header is present. */
export function traceFields(headers: HeaderBag, project: string | undefined): TraceFields {
  const ids = readTrace(headers);
  const fields: TraceFields = {};
  if (ids === undefined) return fields;
  fields['logging.googleapis.com/trace'] = project !== undefined ? `projects/${project}/traces/${ids.traceId}` : ids.traceId;
  if (ids.spanId !== undefined) fields['logging.googleapis.com/spanId'] = ids.spanId;
  if (ids.sampled !== undefined) fields['logging.googleapis.com/trace_sampled'] = ids.sampled;
  return fields;
}

/**
 * The start of {@link traceJson}'s trace value for a project: the JSON string up to the trace id,
 * escaped once (a project id is only ever letters, digits and dashes, but it is configuration).
 */
export function traceJsonPrefix(project: string | undefined): string {
  return project !== undefined ? JSON.stringify(`projects/${project}/traces/`).slice(0, -1) : '"';
}

/**
 * {@link traceFields} as pino writes them in a line (`,"key":value` each), for a hand-written log
 * line; `prefix` is {@link traceJsonPrefix} of the project. The ids are hex digits: nothing to escape.
 */
export function traceJson(headers: HeaderBag, prefix: string): string {
  const ids = readTrace(headers);
  if (ids === undefined) return '';
  let json = `,"logging.googleapis.com/trace":${prefix}${ids.traceId}"`;
  if (ids.spanId !== undefined) json += `,"logging.googleapis.com/spanId":"${ids.spanId}"`;
  if (ids.sampled !== undefined) json += `,"logging.googleapis.com/trace_sampled":${ids.sampled}`;
  return json;
}

/**
 * The trace headers a task created while handling this push carries (forward, notification, dead
 * letter). With an OpenTelemetry SDK registered, `handoff` holds the handoff span and the
 * registered propagator writes it (so the next tier's span is its child); otherwise the push's own
 * `traceparent` (+ `tracestate`) or `X-Cloud-Trace-Context` is passed on as it came, when valid.
 */
export function traceHeadersToCarry(headers: HeaderBag, handoff?: Context): Record<string, string> {
  if (handoff !== undefined && trace.getSpanContext(handoff) !== undefined) {
    const injected: Record<string, string> = {};
    propagation.inject(handoff, injected);
    if (injected.traceparent !== undefined) return injected;
  }
  const out: Record<string, string> = {};
  if (traceFields(headers, undefined)['logging.googleapis.com/trace'] === undefined) return out;
  const parent = first(headers.traceparent);
  if (parent !== undefined && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(parent.trim())) {
    out.traceparent = parent.trim();
    const state = first(headers.tracestate);
    if (state !== undefined && state.trim() !== '') out.tracestate = state.trim();
  }
  const cloud = first(headers['x-cloud-trace-context']);
  if (cloud !== undefined && cloud.trim() !== '') out['X-Cloud-Trace-Context'] = cloud.trim();
  return out;
}
