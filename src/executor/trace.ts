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

/** Trace fields for a request; empty when no valid trace header is present. */
export function traceFields(headers: HeaderBag, project: string | undefined): TraceFields {
  let traceId: string | undefined;
  let spanId: string | undefined;
  let sampled: boolean | undefined;
  const parent = first(headers.traceparent);
  const w3c = parent !== undefined ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(parent.trim()) : null;
  if (w3c && !/^0+$/.test(w3c[1]!)) {
    traceId = w3c[1];
    spanId = w3c[2];
    sampled = (parseInt(w3c[3]!, 16) & 1) === 1;
  } else {
    const cloud = first(headers['x-cloud-trace-context']);
    const match = cloud !== undefined ? /^([0-9a-fA-F]{32})(?:\/(\d+))?(?:;o=([01]))?/.exec(cloud.trim()) : null;
    if (match) {
      traceId = match[1]!.toLowerCase();
      // Cloud Logging wants the span id as 16 hex digits; the legacy header carries it in decimal.
      if (match[2] !== undefined) spanId = BigInt(match[2]).toString(16).padStart(16, '0').slice(-16);
      if (match[3] !== undefined) sampled = match[3] === '1';
    }
  }
  const fields: TraceFields = {};
  if (traceId === undefined) return fields;
  fields['logging.googleapis.com/trace'] = project !== undefined ? `projects/${project}/traces/${traceId}` : traceId;
  if (spanId !== undefined) fields['logging.googleapis.com/spanId'] = spanId;
  if (sampled !== undefined) fields['logging.googleapis.com/trace_sampled'] = sampled;
  return fields;
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
