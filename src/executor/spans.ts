/**
 * Optional OpenTelemetry spans, through `@opentelemetry/api` only: without an SDK registered by the
 * user every call here is the API's no-op. With one, each delivery is a CONSUMER span
 * (`process <queue>`) and each handoff a PRODUCER span (`send <queue>`) under it, following
 * OpenTelemetry's messaging conventions. There is no registered `messaging.system` for Cloud
 * Tasks; we use {@link MESSAGING_SYSTEM}. The push's `traceparent` (through the registered
 * propagator) is the delivery span's parent, and the handoff span's context is what the created
 * task carries on (see trace.ts), so a job's path through the tiers is one trace.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Attributes, type Context, type ProxyTracerProvider, type Span } from '@opentelemetry/api';
import type { HandoffResult } from './apply.js';
import type { Delivery, HeaderBag } from './delivery.js';

/** `messaging.system` of our spans: Cloud Tasks has none registered in the conventions. */
export const MESSAGING_SYSTEM = 'gcp_cloud_tasks';

/** The instrumentation scope name spans are created under. */
export const TRACER_NAME = 'cloud-tasks-executor';

// A ProxyTracer: it starts delegating to the SDK's tracer whenever one is registered.
const tracer = trace.getTracer(TRACER_NAME);

interface Open {
  /** Undefined without an SDK (no span was made). */
  span: Span | undefined;
  ctx: Context;
}

/** Open delivery spans by push (a WeakMap: runners see the push as their context, never the span). */
const deliveries = new WeakMap<object, Open>();

/**
 * Whether an SDK is registered: the global provider is the API's proxy, and it has a delegate to
 * hand out tracers. Without one, every span is the API's no-op, and the push skips building it.
 */
function sdkRegistered(): boolean {
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  return typeof provider.getDelegateTracer !== 'function' || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/** Starts the delivery span of `push`, a child of the trace its headers carry. */
export function startDeliverySpan(push: object, headers: HeaderBag, delivery: Delivery, tier: number, maxAttempts: number): void {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  if (!sdkRegistered()) {
    // The no-op span would only carry the parent's span context on: keep the parent itself (when a
    // propagator found one) for the handoff span, which is then what it would have been.
    if (trace.getSpanContext(parent) !== undefined) deliveries.set(push, { span: undefined, ctx: parent });
    return;
  }
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'executor.attempt': delivery.attempt,
    'executor.tier': tier,
    'executor.max_attempts': maxAttempts,
  };
  if (delivery.queue !== undefined) attributes['messaging.destination.name'] = delivery.queue;
  if (delivery.taskName !== undefined) attributes['messaging.message.id'] = delivery.taskName;
  if (delivery.retryCount !== undefined) attributes['gcp_cloud_tasks.task.retry_count'] = delivery.retryCount;
  const span = tracer.startSpan(`process ${delivery.queue ?? 'push'}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  deliveries.set(push, { span, ctx: trace.setSpan(parent, span) });
}

/** Ends the delivery span of `push` with what was decided and answered. */
export function endDeliverySpan(push: object, status: number, outcome: string, action: string | undefined): void {
  const open = deliveries.get(push);
  if (open === undefined) return;
  deliveries.delete(push);
  if (open.span === undefined) return;
  open.span.setAttributes({ 'executor.outcome': outcome, 'http.response.status_code': status, ...(action !== undefined ? { 'executor.action': action } : {}) });
  // 5xx: the delivery failed as far as Cloud Tasks is concerned (it retries); a handled failure
  // answered with the retry status is the expected path, not a span error.
  if (status >= 500) open.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  open.span.end();
}

/** A handoff in progress: its span, and the context the created task carries. */
export interface HandoffSpan {
  /** The context to propagate onto the created task. */
  ctx: Context;
  /** Ends the span with the handoff's result, or the error that failed it. */
  end(result: HandoffResult | undefined, err?: unknown): void;
}

/** Starts the handoff span under the delivery span of `push` (or a root span if there is none). */
export function startHandoffSpan(push: object, kind: string): HandoffSpan {
  const parent = deliveries.get(push)?.ctx ?? ROOT_CONTEXT;
  const span = tracer.startSpan(
    'send',
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'create_task',
        'executor.handoff.kind': kind,
      },
    },
    parent,
  );
  return {
    ctx: trace.setSpan(parent, span),
    end(result, err) {
      if (result !== undefined) {
        span.setAttribute('executor.handoff.kind', result.kind);
        span.setAttribute('executor.handoff.result', result.result);
        if (result.task !== undefined) {
          span.setAttribute('messaging.message.id', result.task);
          const queue = /\/queues\/([^/]+)\/tasks\//.exec(result.task)?.[1];
          if (queue !== undefined) {
            span.setAttribute('messaging.destination.name', queue);
            span.updateName(`send ${queue}`);
          }
        }
      } else {
        span.setAttribute('executor.handoff.result', 'failed');
        if (err instanceof Error) span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : 'handoff failed' });
      }
      span.end();
    },
  };
}
