/**
 * One run's time limit joined with the caller's abort signal (process shutdown). A plain timer
 * that is cleared when the run ends, rather than `AbortSignal.timeout`, whose timers live on for
 * the whole limit (minutes) after every fast run.
 */

/** Why a run's signal fired. */
export type AbortCause = 'timeout' | 'aborted';

/** A run's deadline: the signal to hand to the work, and what made it fire. */
export interface Deadline {
  /** Aborted when the time limit passes or the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Why `signal` fired, once it has. */
  cause(): AbortCause | undefined;
  /** Resolves (never rejects) when `signal` fires; lets a run race work that ignores its signal. */
  readonly fired: Promise<AbortCause>;
  /** Fires the signal now as `aborted` (the runner is closing). */
  abort(): void;
  /** Clears the timer and the listener on the caller's signal. Call when the run ends. */
  dispose(): void;
}

/** Starts a deadline of `timeoutMs` that also fires when `parent` aborts. */
export function startDeadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let why: AbortCause | undefined;
  let resolveFired!: (cause: AbortCause) => void;
  const fired = new Promise<AbortCause>((resolve) => {
    resolveFired = resolve;
  });
  const fire = (cause: AbortCause, reason: unknown) => {
    if (why !== undefined) return;
    why = cause;
    controller.abort(reason);
    resolveFired(cause);
  };
  const onParentAbort = () => fire('aborted', parent.reason);
  const timer = setTimeout(() => fire('timeout', new DOMException(`work timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  // The work keeps the process alive if it must; its deadline alone should not.
  timer.unref();
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    cause: () => why,
    fired,
    abort: () => fire('aborted', new DOMException('the runner is closing', 'AbortError')),
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Human wording of a deadline firing, for the outcome's error. */
export function describeAbort(cause: AbortCause, timeoutMs: number): { type: string; message: string } {
  return cause === 'timeout'
    ? { type: 'Timeout', message: `work did not finish within ${formatMs(timeoutMs)} (WORKER_TIMEOUT_SECONDS)` }
    : { type: 'Aborted', message: 'work was interrupted because the executor is shutting down' };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
