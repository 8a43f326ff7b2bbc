import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { HttpMethod, TaskRecord } from './model.js';
import { fakeOauthToken, type OidcSigner } from './oidc.js';

/** One dispatch of a task, as the engine hands it over: what to send is decided here. */
export interface Delivery {
  task: TaskRecord;
  /** Short id of the task's queue (X-CloudTasks-QueueName). */
  queueId: string;
  /** Dispatches before this one (X-CloudTasks-TaskRetryCount). */
  retryCount: number;
}

/** One HTTP push to a task's target. */
export interface PushRequest {
  url: string;
  method: HttpMethod;
  /** Final headers (lower-case names), already including the X-CloudTasks-* set. */
  headers: Record<string, string>;
  body?: Buffer;
  /** The task's dispatch deadline. */
  timeoutMs: number;
  /** An informational status (1xx) that settles the push as soon as it arrives (Pub/Sub push acks on 102 Processing). */
  settleOnInterim?: number;
}

/** What came back: a status, or no response (timeout / connection failure). */
export type PushResult =
  | { kind: 'response'; status: number; retryAfter?: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'unreachable'; message: string };

/**
 * The HTTP request of one delivery: the task's own headers, then what Cloud Tasks adds (which
 * wins), and the Authorization header of its OIDC or OAuth token. Built synchronously when the
 * dispatch starts, so it reflects the task's counters at that moment.
 */
export function pushRequest(d: Delivery, signer: OidcSigner): PushRequest {
  const { task } = d;
  const h: Record<string, string> = {};
  const own = task.http.headers;
  for (const k in own) h[k.toLowerCase()] = own[k]!;
  // The stored headers hold Cloud Tasks' User-Agent already. No Content-Type is invented for an
  // HTTP task: "Content-Type won't be set by Cloud Tasks" (target.proto).
  if (task.appEngine === undefined) {
    taskHeaders(h, CLOUD_TASKS_HEADERS, d, task.executionCount, task.retryReason);
  } else {
    // App Engine, as recorded from production (conformance/golden/dispatch.json, dispatch/appengine):
    // the execution count counts every earlier answer, 5xx included, and a retry after an answer
    // gives the reason "App Error" (after none, "Instance Unavailable"). The stored Content-Length
    // is left to the HTTP layer.
    delete h['content-length'];
    taskHeaders(h, APP_ENGINE_HEADERS, d, task.responseCount, task.previousResponse !== undefined ? 'App Error' : 'Instance Unavailable');
  }
  const auth = task.http.auth;
  if (auth?.kind === 'oidc') {
    h.authorization = `Bearer ${signer.token(auth.serviceAccountEmail, auth.audience || task.http.url)}`;
  } else if (auth?.kind === 'oauth') {
    h.authorization = `Bearer ${fakeOauthToken(auth.serviceAccountEmail)}`;
  }
  const req: PushRequest = { url: task.http.url, method: task.http.httpMethod, headers: h, timeoutMs: task.dispatchDeadlineMs };
  if (task.http.body !== undefined && task.http.body.length > 0) req.body = task.http.body;
  return req;
}

/** The names of the task headers under one prefix, built once (they are set on every push). */
function taskHeaderNames(prefix: string) {
  const n = (s: string): string => `${prefix}${s}`;
  return { queue: n('queuename'), task: n('taskname'), retries: n('taskretrycount'), executions: n('taskexecutioncount'), eta: n('tasketa'), previous: n('taskpreviousresponse'), reason: n('taskretryreason') };
}
const CLOUD_TASKS_HEADERS = taskHeaderNames('x-cloudtasks-');
const APP_ENGINE_HEADERS = taskHeaderNames('x-appengine-');

/** The task's X-CloudTasks-* (HTTP) or X-AppEngine-* (App Engine) headers. */
function taskHeaders(h: Record<string, string>, names: ReturnType<typeof taskHeaderNames>, d: Delivery, executionCount: number, retryReason: string | undefined): void {
  const { task, retryCount } = d;
  h[names.queue] = d.queueId;
  h[names.task] = task.id;
  h[names.retries] = String(retryCount);
  h[names.executions] = String(executionCount);
  h[names.eta] = (task.scheduleTimeMs / 1000).toFixed(6);
  if (retryCount > 0) {
    if (task.previousResponse !== undefined) h[names.previous] = String(task.previousResponse);
    if (retryReason !== undefined) h[names.reason] = retryReason;
  }
}

/** Redirects followed within one attempt before the 3xx itself counts as the answer. */
const MAX_REDIRECTS = 10;

/**
 * Pushes tasks over HTTP with a keep-alive connection pool per origin: opening a connection per task
 * would cap throughput far below what a local receiver can take. It uses undici's low-level
 * dispatch API: the response body is discarded as it arrives, without the stream and promise
 * machinery of `request()`, which matters at thousands of pushes per second. One Pusher (one
 * Agent) serves every Cloud Tasks dispatch and Pub/Sub push of an emulator.
 */
export class Pusher {
  private readonly agent = new Agent({
    connections: 256,
    // No pipelining: undici never pipelines a POST anyway (it is not idempotent), and for GET, PUT
    // or DELETE tasks a pipelined push would wait behind a slow handler's answer on the same
    // connection while its own dispatch deadline runs — each dispatch must be an independent
    // request, as in production. Idle connections are reused (keep-alive), which is what saves.
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connect: { timeout: 10_000 },
  });
  /** Parsed URLs: tasks of a queue usually share a handful of targets. */
  private readonly urls = new Map<string, { origin: string; path: string } | null>();

  push(req: PushRequest): Promise<PushResult> {
    return new Promise<PushResult>((resolve) => this.send(req, req.url, MAX_REDIRECTS, Date.now() + req.timeoutMs, resolve));
  }

  /**
   * One HTTP exchange of a push. A 3xx answer with a Location is followed with the same method,
   * headers and body (target.proto: "The Location header response from a redirect response [300 -
   * 399] may be followed. The redirect is not counted as a separate attempt."), up to
   * MAX_REDIRECTS hops within the one dispatch deadline; past that the 3xx is the answer.
   */
  private send(req: PushRequest, url: string, redirectsLeft: number, deadlineAt: number, resolve: (r: PushResult) => void): void {
    const target = this.parse(url);
    if (target === null) {
      resolve({ kind: 'unreachable', message: `invalid URL ${url}` });
      return;
    }
    const timeoutMs = Math.max(1, deadlineAt - Date.now());
    const follow = redirectsLeft > 0 ? { pusher: this, req, url, redirectsLeft, deadlineAt } : undefined;
    const handler = new PushHandler(resolve, req.timeoutMs, follow, req.settleOnInterim);
    try {
      this.agent.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: req.method,
          headers: req.headers,
          body: req.body ?? null,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    } catch (err) {
      resolve({ kind: 'unreachable', message: (err as Error).message });
    }
  }

  /**
   * Follows a redirect's Location within the same dispatch (false when it cannot be followed).
   * Reached only on a 3xx, so no push pays for a closure it will not use.
   */
  redirect(hop: Redirect, location: string, resolve: (r: PushResult) => void): boolean {
    let next: string;
    try {
      next = new URL(location, hop.url).href;
    } catch {
      return false;
    }
    if (!next.startsWith('http:') && !next.startsWith('https:')) return false;
    this.send(hop.req, next, hop.redirectsLeft - 1, hop.deadlineAt, resolve);
    return true;
  }

  /** Closes pooled connections (pushes in flight are aborted). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }

  private parse(url: string): { origin: string; path: string } | null {
    let hit = this.urls.get(url);
    if (hit === undefined) {
      try {
        const u = new URL(url);
        hit = { origin: u.origin, path: `${u.pathname}${u.search}` };
      } catch {
        hit = null;
      }
      if (this.urls.size >= 10_000) this.urls.clear();
      this.urls.set(url, hit);
    }
    return hit;
  }
}

/** Where a push stands when its answer is a redirect: what {@link Pusher.redirect} needs to go on. */
interface Redirect {
  pusher: Pusher;
  req: PushRequest;
  url: string;
  redirectsLeft: number;
  deadlineAt: number;
}

/**
 * Collects one push's outcome. A class rather than an object of closures: one small allocation per
 * push. undici's Agent drives it through the controller-based handler API (undici 7+).
 */
class PushHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private retryAfter: string | undefined;
  private location: string | undefined;

  constructor(
    private readonly resolve: (r: PushResult) => void,
    private readonly timeoutMs: number,
    /** The push, for following a redirect's Location. Absent: no more hops. */
    private readonly follow: Redirect | undefined,
    /** An interim (1xx) status that settles the push as an answer (Pub/Sub acks on 102). */
    private readonly settleOnInterim?: number,
  ) {}

  /** Required by undici's handler contract; nothing to do before the request goes out. */
  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // Interim (1xx) responses may be reported here too; the final one follows. A later resolve is a no-op.
    if (statusCode < 200 && statusCode === this.settleOnInterim) this.resolve({ kind: 'response', status: statusCode });
    this.status = statusCode;
    const retryAfter = headers['retry-after'];
    if (retryAfter !== undefined) this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    if (statusCode >= 300 && statusCode < 400) {
      const location = headers.location;
      if (location !== undefined) this.location = Array.isArray(location) ? location[0] : location;
    }
  }

  /** The target's answer body is not used; it is discarded as it streams in. */
  onResponseData(): void {}

  onResponseEnd(): void {
    if (this.location !== undefined && this.follow !== undefined && this.follow.pusher.redirect(this.follow, this.location, this.resolve)) return;
    this.resolve(this.answered());
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
      this.resolve({ kind: 'timeout', message: `no response within the dispatch deadline (${this.timeoutMs / 1000}s)` });
    } else if (this.status !== 0 && !(err instanceof undiciErrors.ClientDestroyedError)) {
      // The status line arrived but the body broke off: the target did answer.
      this.resolve(this.answered());
    } else {
      const e = err as { code?: string; message?: string };
      this.resolve({ kind: 'unreachable', message: e.code ?? e.message ?? 'connection failed' });
    }
  }

  private answered(): PushResult {
    return this.retryAfter === undefined
      ? { kind: 'response', status: this.status }
      : { kind: 'response', status: this.status, retryAfter: this.retryAfter };
  }
}
