/**
 * Prometheus metrics of one executor app. Each app gets its own registry (never prom-client's global
 * one), so several tiers in one process (the local stack, tests) keep separate counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The executor's metrics and the registry serving them. */
export interface ExecutorMetrics {
  registry: Registry;
  /** Pushes answered, by outcome of the work (or why it did not run) and HTTP status. */
  deliveries: Counter<'outcome' | 'status'>;
  /** Time from receiving a push to answering it, by outcome. */
  duration: Histogram<'outcome'>;
  /** Tasks created by this executor, by kind and result (created, exists, failed). */
  handoffs: Counter<'kind' | 'result'>;
  /** Time one handoff (creating the forward, notification or dead-letter task) took, by kind and result. */
  handoffDuration: Histogram<'kind' | 'result'>;
  /** Pushes refused by authentication, by reason code. */
  authRejections: Counter<'code'>;
}

/** Options for {@link makeMetrics}. */
export interface MetricsOptions {
  /** Node's process metrics (`process_*`, `nodejs_*`) on this registry; on by default. */
  defaultMetrics?: boolean;
  /** Pushes being handled right now, read at scrape time (the push gate's count). */
  inFlight?: () => number;
}

/** Creates a fresh registry with the executor's metrics. */
export function makeMetrics(options: MetricsOptions = {}): ExecutorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const inFlight = options.inFlight;
  if (inFlight !== undefined) {
    new Gauge({
      name: 'executor_pushes_in_flight',
      help: 'Pushes being handled (work running or handoff pending)',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
  }
  return {
    registry,
    deliveries: new Counter({
      name: 'executor_deliveries_total',
      help: 'Pushes answered, by outcome of the work and HTTP status',
      labelNames: ['outcome', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'executor_delivery_duration_seconds',
      help: 'Time from receiving a push to answering it',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    handoffs: new Counter({
      name: 'executor_handoffs_total',
      help: 'Tasks created by the executor, by kind (forward, notify-success, notify-failure, dead-letter) and result',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    handoffDuration: new Histogram({
      name: 'executor_handoff_duration_seconds',
      help: 'Time to create one task for a handoff (forward, notification, dead letter), by kind and result',
      labelNames: ['kind', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    authRejections: new Counter({
      name: 'executor_auth_rejections_total',
      help: 'Pushes refused by authentication, by reason',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}

/** Counts one handoff and observes how long it took since `startedMs` (a `performance.now()`). */
export function recordHandoff(metrics: ExecutorMetrics, kind: string, result: string, startedMs: number): void {
  metrics.handoffs.inc({ kind, result });
  metrics.handoffDuration.observe({ kind, result }, (performance.now() - startedMs) / 1000);
}
