/**
 * Admission control for graceful shutdown: counts pushes in flight, refuses new ones once draining
 * starts, and aborts the stragglers when the grace period ends.
 */

/**
 * Shared between the app (which enters and leaves) and its owner (which drains). `T` is what a push
 * is tracked by (the app's reply), so that pushes still running at the very end can be answered.
 */
export interface PushGate<T = unknown> {
  /** True once shutdown began: new pushes get 503 + Retry-After. */
  readonly draining: boolean;
  /** Pushes being handled now. */
  readonly inFlight: number;
  /** Aborted when the grace period ends; runs see it through their context's signal. */
  readonly signal: AbortSignal;
  /** Marks a push as started; `item` is what {@link abandon} hands back if it never finishes. */
  enter(item?: T): void;
  /** Marks a push as finished. */
  leave(item?: T): void;
  /** Waits up to `ms` for no push to be in flight; resolves whether that happened. */
  idle(ms: number): Promise<boolean>;
  /** Calls `answer` with every push still in flight (past the grace period, their work ignoring the abort). */
  abandon(answer: (item: T) => void): void;
  /**
   * Stops admitting pushes and waits up to `graceMs` for those in flight. Resolves `true` when all
   * finished in time; otherwise aborts {@link signal} and resolves `false`.
   */
  drain(graceMs: number): Promise<boolean>;
}

/** Creates a gate. */
export function makePushGate<T = unknown>(): PushGate<T> {
  let draining = false;
  let inFlight = 0;
  const abort = new AbortController();
  const idleWaiters = new Set<() => void>();
  const tracked = new Set<T>();
  const idle = (ms: number): Promise<boolean> => {
    if (inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        idleWaiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        idleWaiters.delete(wake);
        resolve(false);
      }, ms);
      idleWaiters.add(wake);
    });
  };
  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    signal: abort.signal,
    enter(item) {
      inFlight += 1;
      if (item !== undefined) tracked.add(item);
    },
    leave(item) {
      inFlight -= 1;
      if (item !== undefined) tracked.delete(item);
      if (inFlight === 0) for (const wake of idleWaiters) wake();
    },
    idle,
    abandon(answer) {
      for (const item of tracked) answer(item);
    },
    async drain(graceMs) {
      draining = true;
      const finished = await idle(graceMs);
      if (!finished) abort.abort(new Error('shutdown grace period ended'));
      return finished;
    },
  };
}
