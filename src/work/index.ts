/**
 * Entry point of the runners: {@link makeRunner} turns the configured worker into a {@link Runner}.
 * Everything that can be checked before traffic arrives (the module loads and exports a handler,
 * the command exists, the URL is usable) is checked here, so a bad configuration stops startup.
 */
import type { WorkerConfig } from '../config.js';
import { makeCommandRunner } from './command.js';
import { demoHandler } from './demo.js';
import { makeHttpRunner } from './http.js';
import { loadHandlerModule, makeModuleRunner } from './module.js';
import type { Runner, RunnerOptions } from './types.js';

/** The `WORKER_MODULE` value that selects the built-in demo handler. */
const DEMO_MODULE = 'demo';

/** Builds the runner for the configured worker. Throws a CodedError when it cannot work at all. */
export async function makeRunner(worker: WorkerConfig, options: RunnerOptions): Promise<Runner> {
  switch (worker.kind) {
    case 'module': {
      if (worker.module === DEMO_MODULE) return makeModuleRunner({ handler: demoHandler }, options);
      const loaded = await loadHandlerModule(worker.module);
      options.logger.info({ module: loaded.path }, 'loaded handler module');
      return makeModuleRunner(loaded, options);
    }
    case 'http':
      return makeHttpRunner(worker.url, options);
    case 'command':
      return makeCommandRunner(worker.argv, options);
  }
}

export { IgnoreError, PermanentError, RetryableError, IGNORE, PERMANENT, RETRYABLE } from './errors.js';
export { METADATA_NAMES } from './metadata.js';
export { EX_TEMPFAIL } from './command.js';
export type { Handler, Job, JobFormat, PubSubFacts, RunContext, RunOutcome, Runner, RunnerOptions, WorkError } from './types.js';
