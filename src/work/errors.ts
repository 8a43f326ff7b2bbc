/**
 * Errors a handler throws to say what should happen to its job (BullMQ's `UnrecoverableError`
 * idea): retry it, fail it for good now, or drop it. An ordinary `Error` means "retry".
 *
 * Runners recognise these by `code`, not by `instanceof`, so a handler that bundles its own copy of
 * this file (or just sets `code` on an Error) is understood the same way.
 */
import { CodedError } from '../errors.js';

/** `code` of a {@link RetryableError}. */
export const RETRYABLE = 'WORK_RETRYABLE';
/** `code` of a {@link PermanentError}. */
export const PERMANENT = 'WORK_PERMANENT';
/** `code` of an {@link IgnoreError}. */
export const IGNORE = 'WORK_IGNORE';

/** Options shared by the intent errors. */
export interface WorkErrorOptions {
  /** Class of the failure reported in the notification's `error.type` (default `Error`). */
  type?: string;
  /** The underlying error, kept for logs. */
  cause?: unknown;
}

/** The job failed but may succeed later: retry it while this tier's budget lasts, then hand it off. */
export class RetryableError extends CodedError {
  /** Reported as the notification's `error.type`. */
  readonly type: string;

  constructor(message: string, options: WorkErrorOptions = {}) {
    super(RETRYABLE, message, { cause: options.cause });
    this.name = 'RetryableError';
    this.type = options.type ?? 'Error';
  }
}

/** The job can never succeed (bad input, unknown file): don't retry, notify the failure now. */
export class PermanentError extends CodedError {
  /** Reported as the notification's `error.type`. */
  readonly type: string;

  constructor(message: string, options: WorkErrorOptions = {}) {
    super(PERMANENT, message, { cause: options.cause });
    this.name = 'PermanentError';
    this.type = options.type ?? 'Error';
  }
}

/** Drop the job: answer Cloud Tasks with success, retry nothing, notify nobody (e.g. a duplicate). */
export class IgnoreError extends CodedError {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(IGNORE, reason, options);
    this.name = 'IgnoreError';
  }
}
