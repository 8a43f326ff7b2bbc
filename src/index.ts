/**
 * The package's public API for handler authors (`import { PermanentError } from 'cloud-tasks-executor'`).
 * The emulator is published separately as `executor/emulator`, so a handler never loads it.
 */
export { IgnoreError, PermanentError, RetryableError, IGNORE, PERMANENT, RETRYABLE } from './work/errors.js';
export type { WorkErrorOptions } from './work/errors.js';
export { EX_TEMPFAIL } from './work/command.js';
export type { Handler, Job, JobFormat, PubSubFacts, RunContext, RunOutcome, WorkError } from './work/types.js';
export { CodedError } from './errors.js';
