/**
 * The built-in `demo` handler (`WORKER_MODULE=demo`): the original executor's stub. A job whose
 * `sourceFile` is `invalid` fails with `Error: invalid source file` — an ordinary, retryable error,
 * so it spends every tier's budget and ends in a failure notification; anything else succeeds.
 */
import type { Handler } from './types.js';

/** The `sourceFile` value that makes the demo fail. */
export const INVALID_SOURCE_FILE = 'invalid';

/** The demo handler. */
export const demoHandler: Handler = (job) => {
  const payload = job.payload;
  const sourceFile = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).sourceFile : undefined;
  if (sourceFile === INVALID_SOURCE_FILE) throw new Error('invalid source file');
  return undefined;
};
