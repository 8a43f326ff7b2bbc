/**
 * The contract between the push path and the work it runs. A runner turns (job, context) into an
 * outcome and never throws: whatever goes wrong in the work becomes a `retryable` or `permanent`
 * outcome, so the decision about what to answer Cloud Tasks stays in one pure place (`decide`).
 */
import type { Logger } from 'pino';

/** Wire format a job arrived in; notifications are answered in the same one. */
export type JobFormat = 'proto-binary' | 'proto-json' | 'envelope' | 'firebase';

/** A decoded unit of work. */
export interface Job {
  /** How the push body was encoded. */
  format: JobFormat;
  /**
   * What the work operates on. For the SvcWorkRequest formats: the request as a plain object
   * (`{ sourceFile, webhookUrl, fileMetadata, context }`, proto3 JSON field names). For the JSON
   * envelope: its `payload`, as sent. For a Firebase task-queue body (`{"data": …}`): its `data`.
   */
  payload: unknown;
  /** Where this job's notification goes, if it names a webhook. */
  webhookUrl?: string;
}

/** What a runner knows about the delivery it is running for. */
export interface RunContext {
  /**
   * 1-based attempt of the work on this tier: `X-CloudTasks-TaskExecutionCount + 1` for a Cloud
   * Tasks push, the envelope's `deliveryAttempt` for a Pub/Sub push (1 when the subscription has no
   * dead-letter policy, which is the only case Pub/Sub sends none).
   */
  attempt: number;
  /** This tier's attempt budget. */
  maxAttempts: number;
  /** `X-CloudTasks-TaskRetryCount`: dispatches before this one, 0 when absent. */
  retryCount: number;
  /** `X-CloudTasks-TaskExecutionCount`: responses received before this one, 0 when absent. */
  executionCount: number;
  /** Short queue id the task came from, when the push said. */
  queue?: string;
  /** Short task id, when the push said. */
  taskName?: string;
  /** This tier's number in the chain (1 = first). */
  tier: number;
  /** The Pub/Sub message's facts, when the push was a Pub/Sub push (absent for Cloud Tasks pushes). */
  pubsub?: PubSubFacts;
  /** Aborted when the work's time limit passes or the process must stop. */
  signal: AbortSignal;
  /** A logger bound to this delivery, for handlers. Never log payloads with it. */
  logger: Logger;
}

/** What a Pub/Sub push says about its message. */
export interface PubSubFacts {
  /** Full subscription name (`projects/P/subscriptions/S`). */
  subscription: string;
  /** The message's id. */
  messageId: string;
  /** The message's attributes, as published (empty when it had none). */
  attributes: Readonly<Record<string, string>>;
  /** `deliveryAttempt` (1-based); absent when the subscription has no dead-letter policy. */
  deliveryAttempt?: number;
  /** When the message was published (RFC 3339), when the envelope said. */
  publishTime?: string;
  /** The message's ordering key, when it had one. */
  orderingKey?: string;
}

/** Why a run failed, in the shape of the wire format's `Error { type, message }`. */
export interface WorkError {
  /** Class of the failure, e.g. `Error`, `Timeout`, `HttpStatus`. */
  type: string;
  /** Human-readable detail; never contains credentials. */
  message: string;
}

/** How one run of the work ended. */
export type RunOutcome =
  /** Done; `result` (JSON-serialisable, optional) goes into JSON-envelope notifications. */
  | { kind: 'success'; result?: unknown }
  /** Failed; worth trying again while budget is left. */
  | { kind: 'retryable'; error: WorkError }
  /** Failed for good: notify failure now, do not retry. */
  | { kind: 'permanent'; error: WorkError }
  /** Drop the job: no retry, no notification. */
  | { kind: 'ignore'; reason?: string };

/** Runs the work for one delivery. Implementations never throw from `run`. */
export interface Runner {
  /** `module`, `http` or `command`, for logs and metrics. */
  readonly kind: string;
  /**
   * Runs the job: its outcome, or a promise of it. A runner may return the outcome itself when the
   * work finished synchronously (the module runner with a synchronous handler), so the push is
   * answered in the same turn.
   */
  run(job: Job, ctx: RunContext): RunOutcome | Promise<RunOutcome>;
  /** Releases resources (connection pools) at shutdown. */
  close(): Promise<void>;
}

/** Options every runner gets from the configuration. */
export interface RunnerOptions {
  /** Time limit for one run, in milliseconds. */
  timeoutMs: number;
  /** Cap on captured output (command stdout, HTTP response body), in bytes. */
  maxOutputBytes: number;
  /** Process logger. */
  logger: Logger;
}

/** The signature of an in-process handler exported by a `WORKER_MODULE`. */
export type Handler = (job: Job, ctx: RunContext) => unknown;
