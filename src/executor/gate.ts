/**
 * Admission control for graceful shutdown: counts pushes in flight, refuses new ones once draining
 * starts, and aborts the stragglers when the grace period ends.
 */

/** Shared between the app (which enters and leaves) and its owner (which drains). */
export interface PushGate {
  /** True once shutdown began: new pushes get 503 + Retry-After. */
  readonly draining: boolean;
  /** Pushes being handled now. */
  readonly inFlight: number;
  /** Aborted when the grace period ends; runs see it through their context's signal. */
  readonly signal: AbortSignal;
  /** Marks a push as started. */
  enter(): void;
  /** Marks a push as finished. */
  leave(): void;
  /**
   * Stops admitting pushes and waits up to `graceMs` for those in flight. Resolves `true` when all
   * finished in time; otherwise aborts {@link signal} and resolves `false`.
   */
  drain(graceMs: number): Promise<boolean>;
}

/** Creates a gate. */
export function makePushGate(): PushGate {
  let draining = false;
  let inFlight = 0;
  const abort = new AbortController();
  const idleWaiters = new Set<() => void>();
  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    signal: abort.signal,
    enter() {
      inFlight += 1;
    },
    leave() {
      inFlight -= 1;
      if (inFlight === 0) for (const wake of idleWaiters) wake();
    },
    drain(graceMs) {
      draining = true;
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(wake);
          abort.abort(new Error('shutdown grace period ended'));
          resolve(false);
        }, graceMs);
        idleWaiters.add(wake);
      });
    },
  };
}
