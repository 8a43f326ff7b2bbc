/**
 * The emulator's Prometheus metrics, served at `GET /metrics` on its one port: per queue, tasks
 * waiting, dispatches by response class, retries scheduled and tasks dropped after their retry
 * limits, plus Node's process metrics. Its own registry, so several emulators in one process
 * (tests) keep separate counts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PushResult } from './dispatch.js';
import type { EngineEvents } from './engine/engine.js';

/** A dispatch's answer as a metric label: `2xx` … `5xx`, or why there was none. */
export type ResponseClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'unreachable';

/** Labels a push result: the status class, or `timeout` / `unreachable` when nothing answered. */
export function responseClass(result: PushResult): ResponseClass {
  if (result.kind !== 'response') return result.kind;
  const c = Math.floor(result.status / 100);
  return c >= 1 && c <= 5 ? (`${c}xx` as ResponseClass) : '5xx';
}

/** The emulator's registry and the engine events that feed it. */
export interface EmulatorMetrics {
  registry: Registry;
  /** Passed to the Engine: counts dispatches, retries and drops as they happen. */
  events: EngineEvents;
  /** Reads queue depths at scrape time from `sizes` (the engine's `queueSizes`). */
  watchQueues(sizes: () => Iterable<{ queue: string; waiting: number }>): void;
}

/** Creates a registry with the emulator's metrics and Node's process metrics. */
export function makeEmulatorMetrics(): EmulatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let sizes: () => Iterable<{ queue: string; waiting: number }> = () => [];
  new Gauge({
    name: 'cloudtasks_emulator_tasks_waiting',
    help: 'Tasks held by a queue and not in flight (scheduled, due, or held back by rate limits or a pause)',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sizes()) this.set({ queue: s.queue }, s.waiting);
    },
  });
  // Dispatches are counted in plain numbers and handed to prom-client at scrape time: a labelled
  // inc() hashes its label object on every push, which showed in the profile of a busy emulator.
  const dispatchCounts = new Map<string, Map<ResponseClass, number>>();
  new Counter({
    name: 'cloudtasks_emulator_dispatches_total',
    help: 'HTTP pushes completed, by queue and response class (2xx … 5xx, timeout, unreachable)',
    labelNames: ['queue', 'response'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [queue, byClass] of dispatchCounts) for (const [response, n] of byClass) this.inc({ queue, response }, n);
    },
  });
  const retries = new Counter({
    name: 'cloudtasks_emulator_retries_total',
    help: 'Failed attempts scheduled for another dispatch, by queue',
    labelNames: ['queue'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'cloudtasks_emulator_dropped_tasks_total',
    help: 'Tasks given up after their retry limits (maxAttempts / maxRetryDuration), by queue',
    labelNames: ['queue'],
    registers: [registry],
  });
  return {
    registry,
    events: {
      dispatched: (queue, result) => {
        let byClass = dispatchCounts.get(queue);
        if (byClass === undefined) dispatchCounts.set(queue, (byClass = new Map<ResponseClass, number>()));
        const c = responseClass(result);
        byClass.set(c, (byClass.get(c) ?? 0) + 1);
      },
      retried: (queue) => retries.inc({ queue }),
      dropped: (queue) => dropped.inc({ queue }),
    },
    watchQueues(fn) {
      sizes = fn;
    },
  };
}

/** Wraps an HTTP handler so that `GET /metrics` answers with the registry's exposition text. */
export function withMetricsRoute(
  registry: Registry,
  next: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) return next(req, res);
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
}
