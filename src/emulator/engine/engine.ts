import { randomInt } from 'node:crypto';
import type { Logger } from '../../log.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, STATUS, statusForHttp } from '../api/status.js';
import type { PushRequest, PushResult } from '../dispatch.js';
import {
  LIMITS,
  type AttemptRecord,
  type HttpMethod,
  type QueueInput,
  type QueueRecord,
  type QueueState,
  type TaskInput,
  type TaskRecord,
} from '../model.js';
import { parseLocationName, parseQueueName, parseTaskName, shortId } from '../names.js';
import { fakeOauthToken, type OidcSigner } from '../oidc.js';
import { parseRetryAfter, retriesExhausted, retryDelayMs, throttledDelayMs } from './backoff.js';
import { RememberedNames } from './dedup.js';
import { Heap } from './heap.js';
import { decodePageToken, encodePageToken, pageSize } from './paging.js';
import { newQueueRecord, updatedQueueRecord } from './queue-config.js';
import { TokenBucket } from './token-bucket.js';

/** What the engine needs from the outside world. */
export interface EngineOptions {
  /** How long a released task name stays reserved (ms). */
  dedupWindowMs: number;
  /** Whether PurgeQueue also forgets the queue's reserved names. */
  resetNamesOnPurge: boolean;
  signer: OidcSigner;
  /** Sends one HTTP push (the Pusher in production use, a fake in unit tests). */
  push: (req: PushRequest) => Promise<PushResult>;
  logger: Logger;
  /** Told of each dispatch, retry and drop, by short queue id (the emulator's /metrics). */
  events?: EngineEvents;
}

/** What happened to a queue's tasks, as it happens. */
export interface EngineEvents {
  /** A push finished with `result`. */
  dispatched(queue: string, result: PushResult): void;
  /** A failed attempt was scheduled to be dispatched again. */
  retried(queue: string): void;
  /** A task was given up after its retry limits. */
  dropped(queue: string): void;
}

/** Counters since start (see Emulator.stats). */
export interface EngineStats {
  created: number;
  dispatched: number;
  succeeded: number;
  failedAttempts: number;
  dropped: number;
  deleted: number;
}

/** A task given up after its retry limits, with its last answer. */
export interface DroppedTask {
  name: string;
  queue: string;
  dispatchCount: number;
  lastStatus?: number;
}

/** A page of a list call. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

interface DueEntry {
  at: number;
  seq: number;
  gen: number;
  task: TaskRecord;
}

interface WakeEntry {
  at: number;
  queue: QueueRuntime;
}

/** A queue with its scheduling state. */
class QueueRuntime {
  readonly id: string;
  readonly tasks = new Map<string, TaskRecord>();
  /** Scheduled tasks by due time; entries whose gen no longer matches their task are stale. */
  readonly due = new Heap<DueEntry>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  readonly bucket: TokenBucket;
  inFlight = 0;
  /** When the engine's timer will next pump this queue (Infinity: not scheduled). */
  wakeAt = Infinity;
  /** Heap entries known to be stale, to decide when compaction pays. */
  stale = 0;
  deleted = false;

  constructor(public record: QueueRecord, now: number) {
    this.id = shortId(record.name);
    this.bucket = new TokenBucket(record.rateLimits.maxDispatchesPerSecond, record.rateLimits.maxBurstSize, now);
  }
}

const MAX_DROPPED_KEPT = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);
/** Headers the emulator sets or the HTTP layer owns; a task cannot override them. */
const RESERVED_HEADER = /^(host|content-length|connection|keep-alive|transfer-encoding|upgrade|te|trailer|x-cloudtasks-.*|x-google-.*|x-appengine-.*)$/i;

/**
 * The Cloud Tasks engine: queues, tasks, scheduling, rate limits, retries and dispatch. It is
 * event-driven: each queue keeps a heap of due times, the engine keeps one heap of queue wake-ups
 * and a single timer for the earliest, so an idle emulator does nothing at all.
 */
export class Engine {
  private readonly queues = new Map<string, QueueRuntime>();
  private readonly remembered: RememberedNames;
  private readonly wakeups = new Heap<WakeEntry>((a, b) => a.at < b.at);
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly dirty = new Set<QueueRuntime>();
  private flushScheduled = false;
  private inFlight = 0;
  private seq = 0;
  private readonly idPrefix = String(randomInt(10_000_000, 99_999_999));
  private idCounter = 0;
  private closed = false;
  private readonly idleWaiters: Array<{ resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private readonly dropped: DroppedTask[] = [];
  private readonly counters: EngineStats = { created: 0, dispatched: 0, succeeded: 0, failedAttempts: 0, dropped: 0, deleted: 0 };

  /** Target URLs already validated: tasks of a queue usually share a handful of targets. */
  private readonly validUrls = new Set<string>();

  constructor(private readonly options: EngineOptions) {
    this.remembered = new RememberedNames(options.dedupWindowMs);
  }

  // ---- queues -------------------------------------------------------------------------------

  /**
   * CreateQueue. `allowState` lets a queues file create a queue PAUSED or DISABLED; through the
   * API state is output only, as in production.
   */
  createQueue(parent: string, input: QueueInput, allowState = false): QueueRecord {
    parseLocationName(parent);
    if (input.name === undefined || input.name === '') throw invalidArgument('queue.name is required.');
    const name = parseQueueName(input.name);
    if (`projects/${name.project}/locations/${name.location}` !== parent) {
      throw invalidArgument(`Queue name '${input.name}' is not in parent '${parent}'.`);
    }
    if (this.queues.has(name.name)) throw alreadyExists(`Queue ${name.name} already exists.`);
    const record = newQueueRecord(name.name, allowState ? input : { ...input, state: 'RUNNING' });
    this.queues.set(name.name, new QueueRuntime(record, Date.now()));
    this.options.logger.debug({ queue: name.name }, 'queue created');
    return record;
  }

  getQueue(name: string): QueueRecord {
    return this.queue(name).record;
  }

  /** ListQueues, sorted by name; `filter` supports production's `state` filter. */
  listQueues(parent: string, requestedSize?: number, token?: string, filter?: string): Page<QueueRecord> {
    parseLocationName(parent);
    const size = pageSize(requestedSize, LIMITS.maxListQueuesPageSize);
    const stateFilter = parseQueueFilter(filter);
    const after = token ? decodePageToken(token, parent) : undefined;
    const prefix = `${parent}/queues/`;
    const all = [...this.queues.keys()]
      .filter((n) => n.startsWith(prefix) && (after === undefined || n > String(after)))
      .sort()
      .map((n) => this.queues.get(n)!.record)
      .filter((q) => stateFilter === undefined || q.state === stateFilter);
    const items = all.slice(0, size);
    const last = items[items.length - 1];
    return { items, nextPageToken: all.length > size && last ? encodePageToken(parent, last.name) : '' };
  }

  /** UpdateQueue with an optional field mask (paths in camelCase or snake_case); creates a missing queue. */
  updateQueue(input: QueueInput, mask: string[] | undefined): QueueRecord {
    if (input.name === undefined || input.name === '') throw invalidArgument('queue.name is required.');
    const parsed = parseQueueName(input.name);
    const q = this.queues.get(parsed.name);
    // Production: "This method creates the queue if it does not exist and updates the queue if it does exist."
    if (q === undefined) return this.createQueue(`projects/${parsed.project}/locations/${parsed.location}`, { ...input, name: parsed.name });
    const next = updatedQueueRecord(q.record, input, mask);
    q.record = next;
    q.bucket.configure(next.rateLimits.maxDispatchesPerSecond, next.rateLimits.maxBurstSize, Date.now());
    this.pumpSoon(q);
    return next;
  }

  deleteQueue(name: string): void {
    const q = this.queue(name);
    this.counters.deleted += q.tasks.size;
    for (const t of q.tasks.values()) t.gone = true;
    q.tasks.clear();
    q.due.clear();
    q.deleted = true;
    this.queues.delete(q.record.name);
    this.remembered.forgetPrefix(`${q.record.name}/tasks/`);
    this.checkIdle();
  }

  /** PurgeQueue: every task that exists now is removed; responses still in flight are ignored. */
  purgeQueue(name: string): QueueRecord {
    const q = this.queue(name);
    const now = Date.now();
    for (const t of q.tasks.values()) {
      t.gone = true;
      if (t.named && !this.options.resetNamesOnPurge) this.remembered.remember(t.name, now);
    }
    this.counters.deleted += q.tasks.size;
    q.tasks.clear();
    q.due.clear();
    q.stale = 0;
    if (this.options.resetNamesOnPurge) this.remembered.forgetPrefix(`${q.record.name}/tasks/`);
    q.record = { ...q.record, purgeTimeMs: now };
    this.checkIdle();
    return q.record;
  }

  pauseQueue(name: string): QueueRecord {
    return this.setState(name, 'PAUSED');
  }

  resumeQueue(name: string): QueueRecord {
    return this.setState(name, 'RUNNING');
  }

  private setState(name: string, state: QueueState): QueueRecord {
    const q = this.queue(name);
    if (q.record.state === 'DISABLED') {
      throw failedPrecondition(`Queue ${q.record.name} is DISABLED; a disabled queue cannot be paused or resumed.`);
    }
    q.record = { ...q.record, state };
    if (state === 'RUNNING') this.pumpSoon(q);
    else this.checkIdle();
    return q.record;
  }

  // ---- tasks --------------------------------------------------------------------------------

  /** CreateTask: validates like production, schedules, and returns the new task. */
  createTask(parent: string, input: TaskInput): TaskRecord {
    // Production answers FAILED_PRECONDITION "Queue does not exist." here (NOT_FOUND elsewhere).
    // A parent that is a known queue's name is valid by construction: only a miss needs parsing
    // (which throws INVALID_ARGUMENT for a malformed name), which keeps regexes off the hot path.
    const q = this.queues.get(parent) ?? this.queues.get(parseQueueName(parent).name);
    if (q === undefined) {
      throw failedPrecondition(`Queue does not exist: ${parent}. Create it first (CreateQueue or the queues file).`);
    }
    if (q.record.state === 'DISABLED') throw failedPrecondition(`Queue ${q.record.name} is DISABLED: it accepts no tasks.`);
    if (input.appEngine) {
      throw invalidArgument('App Engine tasks (app_engine_http_request) are not supported by the emulator: use http_request.');
    }
    const http = input.http;
    if (http === undefined) throw invalidArgument('task.http_request is required (the emulator supports HTTP targets).');
    this.validateUrl(http.url);
    if (http.body !== undefined && http.body.length > 0 && !BODY_METHODS.has(http.httpMethod)) {
      throw invalidArgument(`A task body is only allowed with POST, PUT or PATCH, not ${http.httpMethod}.`);
    }
    if (http.auth !== undefined && http.auth.serviceAccountEmail === '') {
      throw invalidArgument(`${http.auth.kind === 'oidc' ? 'oidc_token' : 'oauth_token'}.service_account_email is required.`);
    }
    const headers: Record<string, string> = {};
    let size = http.url.length + (http.body?.length ?? 0);
    for (const [k, v] of Object.entries(http.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw invalidArgument(`Invalid HTTP header name '${k}' in task.http_request.headers.`);
      if (/[\r\n\0]/.test(v)) throw invalidArgument(`Invalid value for HTTP header '${k}': control characters are not allowed.`);
      size += k.length + v.length;
      if (!RESERVED_HEADER.test(k)) headers[k] = v;
    }
    if (size > LIMITS.maxTaskBytes) {
      throw invalidArgument(`Task size too large: ${size} bytes, the maximum is ${LIMITS.maxTaskBytes} bytes (1 MB).`);
    }
    const now = Date.now();
    if (input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now + LIMITS.maxScheduleAheadMs) {
      throw invalidArgument(
        `schedule_time ${new Date(input.scheduleTimeMs).toISOString()} is too far in the future: the maximum is 30 days from now.`,
      );
    }
    const deadline = input.dispatchDeadlineMs ?? LIMITS.defaultDispatchDeadlineMs;
    if (deadline < LIMITS.minDispatchDeadlineMs || deadline > LIMITS.maxDispatchDeadlineMs) {
      throw invalidArgument(`dispatch_deadline must be between 15s and 30m (1800s), got ${deadline / 1000}s.`);
    }
    let name: string;
    let named = false;
    if (input.name !== undefined && input.name !== '') {
      const parsed = parseTaskName(input.name);
      if (parsed.name !== q.record.name) {
        throw invalidArgument(
          `The queue name from request ('${q.record.name}') must be the same as the queue name in the named task ('${parsed.name}').`,
        );
      }
      name = parsed.taskName;
      named = true;
      if (q.tasks.has(name)) throw alreadyExists(`Requested entity already exists: task ${name}.`);
      if (this.remembered.has(name, now)) {
        throw alreadyExists(
          `The task cannot be created because a task with this name existed too recently: ${name} (names stay reserved for a while after deletion).`,
        );
      }
    } else {
      name = `${q.record.name}/tasks/${this.newId()}`;
    }
    const scheduleTimeMs = input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now ? input.scheduleTimeMs : now;
    const task: TaskRecord = {
      name,
      id: shortId(name),
      queueName: q.record.name,
      http: { ...http, headers },
      scheduleTimeMs,
      createTimeMs: now,
      dispatchDeadlineMs: deadline,
      dispatchCount: 0,
      responseCount: 0,
      executionCount: 0,
      named,
      seq: ++this.seq,
      gen: 0,
      scheduled: false,
      inFlight: 0,
      gone: false,
    };
    q.tasks.set(name, task);
    this.counters.created++;
    this.schedule(q, task);
    return task;
  }

  getTask(name: string): TaskRecord {
    const parsed = parseTaskName(name);
    const q = this.queue(parsed.name);
    const task = q.tasks.get(parsed.taskName);
    if (task === undefined) throw this.taskNotFound(parsed.taskName);
    return task;
  }

  /** ListTasks in creation order. */
  listTasks(parent: string, requestedSize?: number, token?: string): Page<TaskRecord> {
    const q = this.queue(parent);
    const size = pageSize(requestedSize, LIMITS.maxListTasksPageSize);
    const after = token ? Number(decodePageToken(token, q.record.name)) : 0;
    const items: TaskRecord[] = [];
    let more = false;
    for (const t of q.tasks.values()) {
      if (t.seq <= after) continue;
      if (items.length === size) {
        more = true;
        break;
      }
      items.push(t);
    }
    const last = items[items.length - 1];
    return { items, nextPageToken: more && last ? encodePageToken(q.record.name, last.seq) : '' };
  }

  deleteTask(name: string): void {
    const task = this.getTask(name);
    const q = this.queues.get(task.queueName)!;
    this.counters.deleted++;
    this.removeTask(q, task, Date.now());
    this.checkIdle();
  }

  /** RunTask: dispatches now, even if the queue is paused or rate limited. */
  runTask(name: string): TaskRecord {
    const task = this.getTask(name);
    const q = this.queues.get(task.queueName)!;
    if (q.record.state === 'DISABLED') throw failedPrecondition(`Queue ${q.record.name} is DISABLED: its tasks cannot run.`);
    this.startDispatch(q, task, Date.now());
    return task;
  }

  // ---- inspection ---------------------------------------------------------------------------

  /** Per queue (short id): tasks held and not in flight. */
  *queueSizes(): Generator<{ queue: string; waiting: number }> {
    for (const q of this.queues.values()) yield { queue: q.id, waiting: Math.max(0, q.tasks.size - q.inFlight) };
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  droppedTasks(): DroppedTask[] {
    return this.dropped.map((d) => ({ ...d }));
  }

  /** Resolves once no RUNNING queue holds a task and nothing is in flight. */
  waitForIdle(timeoutMs = 30_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.idleWaiters.indexOf(waiter);
          if (i >= 0) this.idleWaiters.splice(i, 1);
          reject(new Error(`Emulator not idle after ${timeoutMs} ms: ${this.describeBusy()}`));
        }, timeoutMs),
      };
      this.idleWaiters.push(waiter);
    });
  }

  /** Stops scheduling; pushes still in flight are ignored when they end. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.idleWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error('Emulator closed before becoming idle'));
    }
  }

  // ---- scheduling ---------------------------------------------------------------------------

  private schedule(q: QueueRuntime, task: TaskRecord): void {
    q.due.push({ at: task.scheduleTimeMs, seq: task.seq, gen: task.gen, task });
    task.scheduled = true;
    this.pumpSoon(q);
  }

  /** Batches pumps: many creates in one tick cost one pass over the queue. */
  private pumpSoon(q: QueueRuntime): void {
    this.dirty.add(q);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queues = [...this.dirty];
    this.dirty.clear();
    for (const q of queues) this.pump(q);
    this.checkIdle();
  };

  private pump(q: QueueRuntime): void {
    if (this.closed || q.deleted || q.record.state !== 'RUNNING') return;
    const now = Date.now();
    const maxConcurrent = q.record.rateLimits.maxConcurrentDispatches;
    for (;;) {
      const top = q.due.peek();
      if (top === undefined) break;
      if (top.task.gone || top.gen !== top.task.gen) {
        q.due.pop();
        if (q.stale > 0) q.stale--;
        continue;
      }
      if (top.at > now) {
        this.wakeAt(q, top.at);
        break;
      }
      if (q.inFlight >= maxConcurrent) break; // a completion pumps again
      const wait = q.bucket.take(now);
      if (wait > 0) {
        if (wait !== Infinity) this.wakeAt(q, now + wait);
        break;
      }
      q.due.pop();
      top.task.scheduled = false;
      this.startDispatch(q, top.task, now);
    }
    if (q.stale > 1024 && q.stale * 2 > q.due.size) this.compact(q);
  }

  /** Rebuilds a queue's heap without stale entries (after many deletions of future tasks). */
  private compact(q: QueueRuntime): void {
    q.due.clear();
    q.stale = 0;
    for (const t of q.tasks.values()) {
      if (t.scheduled) q.due.push({ at: t.scheduleTimeMs, seq: t.seq, gen: t.gen, task: t });
    }
  }

  private wakeAt(q: QueueRuntime, at: number): void {
    if (at >= q.wakeAt) return;
    q.wakeAt = at;
    this.wakeups.push({ at, queue: q });
    this.armTimer();
  }

  private armTimer(): void {
    let top = this.wakeups.peek();
    while (top !== undefined && (top.queue.deleted || top.at !== top.queue.wakeAt)) {
      this.wakeups.pop();
      top = this.wakeups.peek();
    }
    if (top === undefined || this.closed) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt === top.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = top.at;
    this.timer = setTimeout(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(0, top.at - Date.now())));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    for (let top = this.wakeups.peek(); top !== undefined && top.at <= now; top = this.wakeups.peek()) {
      this.wakeups.pop();
      if (top.queue.deleted || top.at !== top.queue.wakeAt) continue;
      top.queue.wakeAt = Infinity;
      this.pump(top.queue);
    }
    this.armTimer();
    this.checkIdle();
  };

  // ---- dispatch -----------------------------------------------------------------------------

  private startDispatch(q: QueueRuntime, task: TaskRecord, now: number): void {
    if (task.scheduled) {
      // RunTask: the task's heap entry stays behind, stale (pump clears the flag when it pops).
      task.scheduled = false;
      q.stale++;
    }
    const gen = ++task.gen;
    const retryCount = task.dispatchCount;
    const headers = this.pushHeaders(q, task, retryCount);
    const attempt: AttemptRecord = { scheduleTimeMs: task.scheduleTimeMs, dispatchTimeMs: now };
    task.dispatchCount++;
    task.firstAttempt ??= { scheduleTimeMs: task.scheduleTimeMs, dispatchTimeMs: now };
    task.lastAttempt = attempt;
    task.inFlight++;
    q.inFlight++;
    this.inFlight++;
    this.counters.dispatched++;
    const req: PushRequest = { url: task.http.url, method: task.http.httpMethod, headers, timeoutMs: task.dispatchDeadlineMs };
    if (task.http.body !== undefined && task.http.body.length > 0) req.body = task.http.body;
    this.options.push(req).then(
      (result) => this.complete(q, task, gen, attempt, result),
      (err: unknown) => this.complete(q, task, gen, attempt, { kind: 'unreachable', message: String(err) }),
    );
  }

  /** The headers of one push: the task's own, then what Cloud Tasks adds (which wins). */
  private pushHeaders(q: QueueRuntime, task: TaskRecord, retryCount: number): Record<string, string> {
    const h: Record<string, string> = {};
    const own = task.http.headers;
    for (const k in own) h[k.toLowerCase()] = own[k]!;
    h['user-agent'] ??= 'Google-Cloud-Tasks';
    if (task.http.body !== undefined && task.http.body.length > 0) h['content-type'] ??= 'application/octet-stream';
    h['x-cloudtasks-queuename'] = q.id;
    h['x-cloudtasks-taskname'] = task.id;
    h['x-cloudtasks-taskretrycount'] = String(retryCount);
    h['x-cloudtasks-taskexecutioncount'] = String(task.executionCount);
    h['x-cloudtasks-tasketa'] = (task.scheduleTimeMs / 1000).toFixed(6);
    if (retryCount > 0) {
      if (task.previousResponse !== undefined) h['x-cloudtasks-taskpreviousresponse'] = String(task.previousResponse);
      if (task.retryReason !== undefined) h['x-cloudtasks-taskretryreason'] = task.retryReason;
    }
    const auth = task.http.auth;
    if (auth?.kind === 'oidc') {
      h.authorization = `Bearer ${this.options.signer.token(auth.serviceAccountEmail, auth.audience || task.http.url)}`;
    } else if (auth?.kind === 'oauth') {
      h.authorization = `Bearer ${fakeOauthToken(auth.serviceAccountEmail)}`;
    }
    return h;
  }

  private complete(q: QueueRuntime, task: TaskRecord, gen: number, attempt: AttemptRecord, result: PushResult): void {
    task.inFlight--;
    q.inFlight--;
    this.inFlight--;
    if (this.closed) return;
    const now = Date.now();
    let status: number | undefined;
    if (result.kind === 'response') {
      status = result.status;
      attempt.responseTimeMs = now;
      attempt.responseStatus = { code: STATUS[statusForHttp(status)].grpc, message: `HTTP status code ${status}` };
      task.responseCount++;
      if (status < 500) task.executionCount++;
    } else {
      attempt.responseStatus = {
        code: result.kind === 'timeout' ? STATUS.DEADLINE_EXCEEDED.grpc : STATUS.UNAVAILABLE.grpc,
        message: result.message,
      };
    }
    const ok = status !== undefined && status >= 200 && status < 300;
    this.options.events?.dispatched(q.id, result);
    // A task deleted or purged while in flight is already counted as deleted.
    if (!ok) this.counters.failedAttempts++;
    else if (!task.gone) this.counters.succeeded++;
    // Checked first: at info level the log call's argument object would be garbage on every push.
    if (this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ task: task.name, attempt: task.dispatchCount, status, outcome: result.kind }, 'task dispatched');

    if (!task.gone) {
      if (ok) {
        this.removeTask(q, task, now);
      } else {
        task.previousResponse = status;
        task.retryReason = status !== undefined ? `HTTP status code ${status}` : result.kind === 'timeout' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE';
        // A RunTask may have dispatched the task again meanwhile: the newest dispatch decides.
        if (gen === task.gen && task.inFlight === 0) this.retryOrDrop(q, task, status, result, now);
      }
    }
    if (!q.deleted) this.pumpSoon(q);
    else this.checkIdle();
  }

  private retryOrDrop(q: QueueRuntime, task: TaskRecord, status: number | undefined, result: PushResult, now: number): void {
    const retry = q.record.retryConfig;
    const sinceFirst = now - (task.firstAttempt?.dispatchTimeMs ?? now);
    if (retriesExhausted(retry, task.dispatchCount, sinceFirst)) {
      this.counters.dropped++;
      this.options.events?.dropped(q.id);
      if (this.dropped.length >= MAX_DROPPED_KEPT) this.dropped.shift();
      const d: DroppedTask = { name: task.name, queue: q.record.name, dispatchCount: task.dispatchCount };
      if (status !== undefined) d.lastStatus = status;
      this.dropped.push(d);
      this.options.logger.warn(
        { task: task.name, dispatchCount: task.dispatchCount, lastStatus: status },
        'task dropped: retry limits reached (maxAttempts / maxRetryDuration)',
      );
      this.removeTask(q, task, now);
      return;
    }
    let delay = retryDelayMs(task.dispatchCount - 1, retry);
    if (status === 429 || status === 503) {
      const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now) : undefined;
      delay = throttledDelayMs(delay, retry.maxBackoffMs, retryAfter);
    }
    task.scheduleTimeMs = now + delay;
    this.options.events?.retried(q.id);
    this.schedule(q, task);
  }

  private removeTask(q: QueueRuntime, task: TaskRecord, now: number): void {
    if (task.gone) return;
    task.gone = true;
    if (task.scheduled) {
      task.scheduled = false;
      q.stale++;
    }
    q.tasks.delete(task.name);
    if (task.named) this.remembered.remember(task.name, now);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private queue(name: string): QueueRuntime {
    const parsed = parseQueueName(name);
    const q = this.queues.get(parsed.name);
    if (q === undefined) throw notFound(`Queue does not exist: ${parsed.name}. Create it first (CreateQueue or the queues file).`);
    return q;
  }

  private taskNotFound(name: string): Error {
    return this.remembered.has(name, Date.now())
      ? notFound(`The task no longer exists, though a task with this name existed recently. The task either successfully completed or was deleted: ${name}.`)
      : notFound(`Task does not exist: ${name}.`);
  }

  private validateUrl(url: string): void {
    if (this.validUrls.has(url)) return;
    validateUrl(url);
    if (this.validUrls.size >= 10_000) this.validUrls.clear();
    this.validUrls.add(url);
  }

  private newId(): string {
    this.idCounter++;
    return `${this.idPrefix}${String(this.idCounter).padStart(11, '0')}`;
  }

  private isIdle(): boolean {
    if (this.inFlight > 0) return false;
    for (const q of this.queues.values()) if (q.record.state === 'RUNNING' && q.tasks.size > 0) return false;
    return true;
  }

  private describeBusy(): string {
    const busy = [...this.queues.values()]
      .filter((q) => q.record.state === 'RUNNING' && q.tasks.size > 0)
      .map((q) => `${q.id}: ${q.tasks.size} task(s)`);
    return `${this.inFlight} dispatch(es) in flight; ${busy.length ? busy.join(', ') : 'no queued tasks'}`;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}

function validateUrl(url: string): void {
  if (url === '') throw invalidArgument('task.http_request.url is required.');
  if (url.length > 2083) throw invalidArgument(`task.http_request.url is longer than 2083 characters (${url.length}).`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`task.http_request.url '${url}' is not a valid absolute URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidArgument(`task.http_request.url must start with 'http://' or 'https://', got '${url}'.`);
  }
}

/** Production's ListQueues filter supports the queue state: `state: PAUSED` (or `state = PAUSED`). */
function parseQueueFilter(filter: string | undefined): QueueState | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const m = /^\s*state\s*[:=]\s*"?(RUNNING|PAUSED|DISABLED)"?\s*$/i.exec(filter);
  if (!m) throw invalidArgument(`Unsupported filter '${filter}': only 'state: RUNNING|PAUSED|DISABLED' is supported.`);
  return m[1]!.toUpperCase() as QueueState;
}
