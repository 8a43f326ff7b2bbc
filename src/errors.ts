/**
 * Errors that carry a stable code and say what to do next, and the few helpers every module uses
 * to word failures for people.
 */
import type { z } from 'zod';

/**
 * An error with a stable code. Every error this project raises on purpose is one of these, so
 * callers (and tests) match on `code`, never on message text.
 */
export class CodedError extends Error {
  /** Stable machine-readable identifier, e.g. `EXECUTOR_CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
}

/** Raised when configuration (environment, flags or files) is invalid; the message lists every problem. */
export class ConfigError extends CodedError {
  /** One line per offending variable or field. */
  readonly problems: readonly string[];

  constructor(code: string, problems: readonly string[], heading = 'Invalid configuration') {
    super(code, `${heading}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The message of anything thrown: an Error's message, else its string form. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where a zod issue points, for {@link formatIssues}. */
export type IssuePath = readonly PropertyKey[];

/**
 * The one rendering of zod issues for people: one line per issue, `label: message`, where the
 * label names the field (`a.b` by default; callers name variables, flags or queues their way). A
 * message that already starts with its label (the schema wrote "MAX_ATTEMPTS must be …") is kept
 * as is, and unknown keys are named.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], label: (path: IssuePath) => string = (p) => p.map(String).join('.')): string[] {
  return issues.map((issue) => {
    const where = label(issue.path);
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : issue.message;
    return where === '' || message.startsWith(where) ? message : `${where}: ${message}`;
  });
}

/**
 * Every code a push can be refused or failed with, and the HTTP status it is answered with: the
 * status of each failure is chosen here, once, and the auth check, the push lifecycle and the
 * error handler all read it (fastify's `lib/errors.js` habit).
 */
export const PUSH_ERROR_STATUS = {
  /** No bearer token: 401 with WWW-Authenticate. */
  AUTH_MISSING: 401,
  AUTH_MALFORMED: 403,
  AUTH_ALGORITHM: 403,
  AUTH_UNKNOWN_KEY: 403,
  AUTH_SIGNATURE: 403,
  AUTH_EXPIRED: 403,
  AUTH_NOT_YET_VALID: 403,
  AUTH_ISSUER: 403,
  AUTH_AUDIENCE: 403,
  AUTH_EMAIL_UNVERIFIED: 403,
  AUTH_EMAIL_NOT_ALLOWED: 403,
  AUTH_INVALID: 403,
  /** The issuer's keys could not be fetched: ours to fix, so Cloud Tasks retries. */
  AUTH_KEYS_UNAVAILABLE: 503,
  /** Larger than the Cloud Tasks maximum task size. */
  BODY_TOO_LARGE: 413,
  /** Undecodable and no dead-letter queue. */
  BODY_UNDECODABLE: 400,
  /** The instance is draining; Cloud Tasks retries elsewhere. */
  SHUTTING_DOWN: 503,
  /** The handoff's enqueue failed; the redelivery redoes it. */
  HANDOFF_FAILED: 503,
  /** Anything unexpected. */
  INTERNAL: 500,
} as const;

/** A code in {@link PUSH_ERROR_STATUS}. */
export type PushErrorCode = keyof typeof PUSH_ERROR_STATUS;
