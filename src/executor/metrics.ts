/**
 * Prometheus metrics of one executor app. Each app gets its own registry (never prom-client's global
 * one), so several tiers in one process (the local stack, tests) keep separate counts.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The executor's metrics and the registry serving them. */
export interface ExecutorMetrics {
  registry: Registry;
  /** Pushes answered, by outcome of the work (or why it did not run) and HTTP status. */
  deliveries: Counter<'outcome' | 'status'>;
  /** Time from receiving a push to answering it, by outcome. */
  duration: Histogram<'outcome'>;
  /** Tasks created by this executor, by kind and result (created, exists, failed). */
  handoffs: Counter<'kind' | 'result'>;
  /** Pushes refused by authentication, by reason code. */
  authRejections: Counter<'code'>;
}

/** Creates a fresh registry with the executor's metrics. */
export function makeMetrics(options: { defaultMetrics?: boolean } = {}): ExecutorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
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
    authRejections: new Counter({
      name: 'executor_auth_rejections_total',
      help: 'Pushes refused by authentication, by reason',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
