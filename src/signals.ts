/**
 * Stopping on SIGINT/SIGTERM, for every long-running command (`serve`, `emulator`, `dev`), through
 * close-with-grace: the first signal starts the command's own graceful stop; a second one forces
 * exit 1 at once; and a stop that outlasts `graceMs` exits 1 rather than hang. Once the command has
 * stopped after a signal the process exits with `process.exitCode`, so a keep-alive socket or a
 * library timer cannot hold it past shutdown.
 */
import closeWithGrace from 'close-with-grace';
import type { Logger } from './log.js';

/** Everything close-with-grace listens to but SIGINT and SIGTERM: the commands leave these to Node. */
const IGNORED = ['SIGHUP', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGUSR2', 'uncaughtException', 'unhandledRejection', 'beforeExit'] as const;

/** A command's stop signal. */
export interface StopSignal {
  /** Resolves with the signal's name on the first SIGINT or SIGTERM. */
  readonly stopped: Promise<string>;
  /**
   * Says the command is done. After a signal the process then exits with `process.exitCode`;
   * without one, the handlers are removed and the process ends on its own.
   */
  readonly done: () => void;
}

/** Options of {@link untilStopSignal}. */
export interface StopSignalOptions {
  /** Where the second signal and the timeout are reported. */
  logger?: Logger;
  /** Longest a stop may take after the signal before the process exits 1; unbounded when undefined. */
  graceMs?: number;
}

/** Listens for the stop signals until {@link StopSignal.done}. */
export function untilStopSignal(options: StopSignalOptions = {}): StopSignal {
  let signalled: (signal: string) => void = () => {};
  let finished: () => void = () => {};
  const stopped = new Promise<string>((resolve) => (signalled = resolve));
  const stoppedAll = new Promise<void>((resolve) => (finished = resolve));
  let received = false;
  const { logger } = options;
  const handle = closeWithGrace(
    {
      delay: options.graceMs ?? null,
      logger: false,
      skip: [...IGNORED],
      onSecondSignal: (signal) => logger?.warn({ signal }, `second ${signal}: exiting now`),
      onTimeout: (delay) => logger?.error({ delayMs: delay }, `still stopping ${delay} ms after the signal: exiting`),
    },
    async ({ signal }) => {
      received = true;
      signalled(signal ?? 'stop');
      await stoppedAll;
      // close-with-grace would exit 0 after this; the command's own exit code wins.
      process.exit();
    },
  );
  return {
    stopped,
    done: () => {
      if (received) finished();
      else handle.uninstall();
    },
  };
}
