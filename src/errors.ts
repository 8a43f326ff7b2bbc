/**
 * Errors that carry a stable code and say what to do next. Every error this project raises on
 * purpose is one of these, so callers (and tests) match on `code`, never on message text.
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
