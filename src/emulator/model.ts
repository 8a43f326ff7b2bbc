/**
 * The emulator's internal model: plain records with times in epoch milliseconds and durations in
 * milliseconds. The API layer converts between these and the gRPC objects / REST JSON.
 */

/** Queue states of the v2 API. DISABLED only comes from a queues file. */
export type QueueState = 'RUNNING' | 'PAUSED' | 'DISABLED';

/** HTTP methods a task may use. */
export type HttpMethod = 'POST' | 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

/** The view of a task a read returns: BASIC omits the body. */
export type TaskView = 'BASIC' | 'FULL';

/** Rate limits of a queue (maxBurstSize is derived, output only). */
export interface RateLimits {
  maxDispatchesPerSecond: number;
  maxBurstSize: number;
  maxConcurrentDispatches: number;
}

/** Retry configuration of a queue; durations in milliseconds, maxAttempts -1 = unlimited. */
export interface RetryConfig {
  maxAttempts: number;
  maxRetryDurationMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxDoublings: number;
}

/** App Engine routing of a task or queue (AppEngineRouting; `host` is computed, output only). */
export interface AppEngineRouting {
  service?: string | undefined;
  version?: string | undefined;
  instance?: string | undefined;
}

/** A queue as the API shows it. */
export interface QueueRecord {
  name: string;
  rateLimits: RateLimits;
  retryConfig: RetryConfig;
  state: QueueState;
  purgeTimeMs?: number;
  stackdriverSamplingRatio?: number;
  /** Routing that replaces every App Engine task's own. */
  appEngineRoutingOverride?: AppEngineRouting;
  /** Emulator only (queues file): the local server this queue's App Engine tasks go to. */
  appEngineHost?: string;
}

/** Partial queue settings, as they arrive from a request or a queues file (before defaults). */
export interface QueueInput {
  name?: string;
  rateLimits?: Partial<Pick<RateLimits, 'maxDispatchesPerSecond' | 'maxConcurrentDispatches'>>;
  retryConfig?: Partial<RetryConfig>;
  state?: QueueState;
  stackdriverSamplingRatio?: number;
  /** Routing that replaces every App Engine task's own; `{}` clears it. */
  appEngineRoutingOverride?: AppEngineRouting;
  /** Emulator only (queues file): the local server this queue's App Engine tasks go to. */
  appEngineHost?: string;
}

/** How the emulator authenticates a push: an OIDC token it signs, or a fake OAuth token. */
export type PushAuth =
  | { kind: 'oidc'; serviceAccountEmail: string; audience?: string }
  | { kind: 'oauth'; serviceAccountEmail: string; scope?: string };

/** The HTTP request a task pushes. */
export interface HttpTarget {
  url: string;
  httpMethod: HttpMethod;
  headers: Record<string, string>;
  body?: Buffer;
  auth?: PushAuth;
}

/** An App Engine request as it arrives in CreateTask (AppEngineHttpRequest). */
export interface AppEngineInput {
  httpMethod: HttpMethod;
  /** Path and query, starting with "/" ("" = "/"). */
  relativeUri: string;
  headers: Record<string, string>;
  body?: Buffer;
  routing?: AppEngineRouting;
}

/** What an App Engine task keeps besides its request: how it was routed. */
export interface AppEngineTarget {
  relativeUri: string;
  /** The routing used: the queue's override, else the task's own. */
  routing: AppEngineRouting;
  /** The host production would deliver to (AppEngineRouting.host), e.g. `worker.PROJECT.appspot.com`. */
  host: string;
}

/** A task as it arrives in CreateTask (before validation and defaults). */
export interface TaskInput {
  name?: string;
  http?: HttpTarget;
  appEngine?: AppEngineInput;
  scheduleTimeMs?: number;
  dispatchDeadlineMs?: number;
}

/** One dispatch attempt as the API reports it. */
export interface AttemptRecord {
  scheduleTimeMs: number;
  dispatchTimeMs: number;
  responseTimeMs?: number;
  /** google.rpc.Status of the response (or of the failure to get one). */
  responseStatus?: { code: number; message: string };
}

/** A task held by the emulator. */
export interface TaskRecord {
  name: string;
  /** Short id (last segment of name). */
  id: string;
  /** Full name of the queue holding the task. */
  queueName: string;
  /**
   * The request pushed. For an App Engine task, `url` is where the emulator sends it (the local App
   * Engine host + the relative URI) and `appEngine` holds what the API shows.
   */
  http: HttpTarget;
  /** Set for App Engine tasks. */
  appEngine?: AppEngineTarget;
  scheduleTimeMs: number;
  createTimeMs: number;
  dispatchDeadlineMs: number;
  /** Dispatches so far (every attempt, answered or not). */
  dispatchCount: number;
  /** Attempts that got any HTTP response. */
  responseCount: number;
  /** Responses other than 5xx: what X-CloudTasks-TaskExecutionCount reports. */
  executionCount: number;
  /** True when the creator chose the name (only those are reserved after deletion). */
  named: boolean;
  firstAttempt?: AttemptRecord;
  lastAttempt?: AttemptRecord;
  /** Monotonic creation order, used for stable paging. */
  seq: number;
  /** Bumped whenever the task is (re)scheduled or dispatched: stale heap entries and late responses compare it. */
  gen: number;
  /** True while the task has a live entry in its queue's schedule. */
  scheduled: boolean;
  /** Dispatches currently waiting for an answer. */
  inFlight: number;
  /** True once the task completed, was deleted, purged or dropped. */
  gone: boolean;
  /** HTTP status of the previous attempt (for X-CloudTasks-TaskPreviousResponse). */
  previousResponse?: number | undefined;
  /** Why the previous attempt failed (for X-CloudTasks-TaskRetryReason). */
  retryReason?: string;
}

/** Production defaults (https://cloud.google.com/tasks/docs/configuring-queues). */
export const DEFAULT_RETRY: Readonly<RetryConfig> = {
  maxAttempts: 100,
  maxRetryDurationMs: 0,
  minBackoffMs: 100,
  maxBackoffMs: 3_600_000,
  maxDoublings: 16,
};

/** Production defaults for rate limits. */
export const DEFAULT_RATE = { maxDispatchesPerSecond: 500, maxConcurrentDispatches: 1000 } as const;

/** Production's upper bounds. */
export const LIMITS = {
  maxDispatchesPerSecond: 500,
  maxConcurrentDispatches: 5000,
  maxBurstSize: 500,
  /** The largest stored task production accepts (see engine/task-size.ts): 1 MiB − 7. */
  maxStoredTaskBytes: 1024 * 1024 - 7,
  /** HttpRequest.headers: "The size of the headers must be less than 80KB." */
  maxHeadersBytes: 80 * 1024,
  maxScheduleAheadMs: 30 * 24 * 3600 * 1000,
  minDispatchDeadlineMs: 15_000,
  maxDispatchDeadlineMs: 30 * 60_000,
  defaultDispatchDeadlineMs: 10 * 60_000,
  maxListTasksPageSize: 1000,
  maxListQueuesPageSize: 9800,
} as const;
