import { CodedError } from '../errors.js';

/** The canonical Google API status codes the emulator answers with (google.rpc.Code). */
export type StatusName =
  | 'OK'
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

/** gRPC numeric code and the HTTP status Google's REST front end maps it to. */
export const STATUS: Readonly<Record<StatusName, { grpc: number; http: number }>> = {
  OK: { grpc: 0, http: 200 },
  CANCELLED: { grpc: 1, http: 499 },
  UNKNOWN: { grpc: 2, http: 500 },
  INVALID_ARGUMENT: { grpc: 3, http: 400 },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504 },
  NOT_FOUND: { grpc: 5, http: 404 },
  ALREADY_EXISTS: { grpc: 6, http: 409 },
  PERMISSION_DENIED: { grpc: 7, http: 403 },
  RESOURCE_EXHAUSTED: { grpc: 8, http: 429 },
  FAILED_PRECONDITION: { grpc: 9, http: 400 },
  ABORTED: { grpc: 10, http: 409 },
  OUT_OF_RANGE: { grpc: 11, http: 400 },
  UNIMPLEMENTED: { grpc: 12, http: 501 },
  INTERNAL: { grpc: 13, http: 500 },
  UNAVAILABLE: { grpc: 14, http: 503 },
  DATA_LOSS: { grpc: 15, http: 500 },
  UNAUTHENTICATED: { grpc: 16, http: 401 },
};

/**
 * One google.rpc error detail (error_details.proto) an error carries: production attaches `Help`
 * links and `ErrorInfo` to some errors; the emulator's own hints travel as `DebugInfo`, so the
 * message itself can stay production's text.
 */
export type ErrorDetail =
  | { type: 'DebugInfo'; detail: string }
  | { type: 'Help'; links: Array<{ description: string; url: string }> }
  | { type: 'ErrorInfo'; reason: string; domain: string; metadata: Record<string, string> }
  | { type: 'LocalizedMessage'; locale: string; message: string };

/**
 * An error the API answers with: `status` picks the gRPC code / HTTP status, `message` is what
 * production says, `details` what production attaches plus the emulator's hint of what to do.
 * `code` is `EMULATOR_<STATUS>` for matching.
 */
export class ApiError extends CodedError {
  /** Canonical status name, e.g. NOT_FOUND. */
  readonly status: StatusName;
  /** google.rpc details sent with the error (gRPC trailer, REST `error.details`). */
  readonly details: readonly ErrorDetail[];

  constructor(status: StatusName, message: string, details: readonly ErrorDetail[] = []) {
    super(`EMULATOR_${status}`, message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }
}

/** A `DebugInfo` detail holding the emulator's hint. */
export const hint = (detail: string): ErrorDetail => ({ type: 'DebugInfo', detail });

/** Shorthands for the statuses the engine raises. */
export const invalidArgument = (message: string, details?: readonly ErrorDetail[]): ApiError => new ApiError('INVALID_ARGUMENT', message, details);
export const notFound = (message: string, details?: readonly ErrorDetail[]): ApiError => new ApiError('NOT_FOUND', message, details);
export const alreadyExists = (message: string, details?: readonly ErrorDetail[]): ApiError => new ApiError('ALREADY_EXISTS', message, details);
export const failedPrecondition = (message: string, details?: readonly ErrorDetail[]): ApiError => new ApiError('FAILED_PRECONDITION', message, details);

/** Turns anything thrown by a handler into an ApiError; unexpected errors become INTERNAL. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('INTERNAL', `Internal error in the emulator: ${message}`);
}

/**
 * The google.rpc.Code Google uses for an HTTP status a task target answered with (shown in
 * `lastAttempt.responseStatus`).
 */
export function statusForHttp(httpStatus: number): StatusName {
  if (httpStatus >= 200 && httpStatus < 300) return 'OK';
  switch (httpStatus) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ABORTED';
    case 416:
      return 'OUT_OF_RANGE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 501:
      return 'UNIMPLEMENTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      if (httpStatus >= 400 && httpStatus < 500) return 'FAILED_PRECONDITION';
      if (httpStatus >= 500) return 'INTERNAL';
      return 'UNKNOWN';
  }
}
