import { randomInt } from 'node:crypto';
import type { Logger } from '../../log.js';
import { failedPrecondition, hint, invalidArgument, STATUS, statusForHttp } from '../status.js';
import type { Delivery, PushResult } from '../dispatch.js';
import {
  LIMITS,
  type AttemptRecord,
  type QueueInput,
  type QueueRecord,
  type QueueState,
  type TaskInput,
  type TaskRecord,
} from '../model.js';
import { parseLocationName, parseQueueName, parseTaskName, shortId } from '../names.js';
import {
  queueAlreadyExists,
  queueExistedRecently,
  queueNotFound,
  queueToDeleteNotFound,
  taskAlreadyExists,
  taskNotFound,
} from '../production-errors.js';
import { parseRetryAfter, retriesExhausted, retryDelayMs, throttledDelayMs } from './backoff.js';
import type { EngineChange, EngineListener } from './changes.js';
import { RememberedNames } from './dedup.js';
import { Heap } from './heap.js';
import { emptyPolicy, grantedPermissions, nextPolicy, type IamBinding, type IamPolicy } from './iam.js';
import { decodePageToken, encodePageToken, pageSize } from './paging.js';
import { newQueueRecord, updatedQueueRecord } from './queue-config.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { TaskInputValidator, type AppEngineContext } from './task-input.js';
import { storedTaskSize } from './task-size.js';
import { Throttle, type ThrottleParams, type ThrottleState, type ThrottlingMode } from './throttle.js';
import { deriveBurstSize, TokenBucket } from './token-bucket.js';

/** What the engine needs from the outside world. */
export interface EngineOptions {
  /** How long a released task name stays reserved (ms). */
  dedupWindowMs: number;
  /** Whether PurgeQueue also forgets the queue's reserved names. */
  resetNamesOnPurge: boolean;
  /** How long a deleted queue's name cannot be created again (ms); production: 7 days, 0 = at once. */
  queueNameReserveMs: number;
  /** The local server App Engine tasks go to, unless their queue names its own (origin, e.g. http://localhost:8080). */
  appEngineHost: string;
  /**
   * Emulator only: the URL of HTTP tasks created with an empty `url` (firebase-admin leaves it
   * empty against an emulator, expecting it to know the function), unless their queue has its own.
   */
  defaultTarget?: string;
  /**
   * Delivers one dispatch of a task (dispatch.ts builds the request and pushes it; a fake in unit
   * tests). It must read the task's counters before returning: the engine updates them right after.
   */
  push: (delivery: Delivery) => PromiseLike<PushResult>;
  logger: Logger;
  /** Time and timers; default the real clock (a virtual one in `executor simulate`). */
  clock?: Clock;
  /** Default throttling of queues (`--throttling`); default 'model'. */
  throttling?: ThrottlingMode;
  /** Parameters of the throttling model; default DEFAULT_THROTTLE. */
  throttleParams?: Readonly<ThrottleParams>;
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

/** One queue's scheduling figures (the `queues` part of /emulator/stats). */
export interface QueueStats extends ThrottleState {
  queue: string;
  /** Tasks in the queue (scheduled or in flight). */
  tasks: number;
  inFlight: number;
  /** The configured limit the enforced rate stays under. */
  maxDispatchesPerSecond: number;
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

/** A queue with its current load (see Engine.queueSummaries). */
export interface QueueSummary {
  /** The queue as the API shows it. */
  queue: QueueRecord;
  /** Tasks it holds (scheduled, waiting or in flight). */
  tasks: number;
  /** Dispatches waiting for an answer. */
  inFlight: number;
}

/** What {@link Engine.restore} loads: the state a data directory kept across a restart. */
export interface RestoredState {
  queues: QueueRecord[];
  tasks: TaskRecord[];
  /** Released task names still reserved, with when each was released (ms), oldest first. */
  releasedNames: Array<[string, number]>;
  /** Deleted queues' names, with when each was deleted (ms), oldest first. */
  deletedQueues: Array<[string, number]>;
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
  /** The project of the queue's name. */
  readonly project: string;
  readonly tasks = new Map<string, TaskRecord>();
  /** Scheduled tasks by due time; entries whose gen no longer matches their task are stale. */
  readonly due = new Heap<DueEntry>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  readonly bucket: TokenBucket;
  throttle: Throttle;
  inFlight = 0;
  /** When the engine's timer will next pump this queue (Infinity: not scheduled). */
  wakeAt = Infinity;
  /** Heap entries known to be stale, to decide when compaction pays. */
  stale = 0;
  /**
   * The queue's tasks in creation order (ListTasks' order), removed ones left behind until there
   * are many: a page token's position is found by binary search, so a page costs O(page + log n)
   * wherever it starts, not a walk over every earlier task.
   */
  order: TaskRecord[] = [];
  /** Where the live part of `order` starts (removed tasks before it are skipped for good). */
  orderStart = 0;
  /** Removed tasks still in `order` after `orderStart`. */
  orderGone = 0;
  deleted = false;
  /** The queue's IAM policy (stored, not enforced). */
  policy: IamPolicy = emptyPolicy();
  /** Emulator only: the URL of tasks that name none (a queues file's `defaultTarget`). */
  defaultTarget?: string;

  constructor(public record: QueueRecord, now: number, mode: ThrottlingMode, params: Readonly<ThrottleParams> | undefined) {
    this.id = shortId(record.name);
    this.project = record.name.split('/')[1]!;
    this.bucket = new TokenBucket(record.rateLimits.maxDispatchesPerSecond, record.rateLimits.maxBurstSize, now);
    this.throttle = new Throttle(record.rateLimits.maxDispatchesPerSecond, mode, params);
  }

  /** Appends a new (or restored, in creation order) task to the listing order. */
  addToOrder(task: TaskRecord): void {
    this.order.push(task);
  }

  /** A task left the queue: skip it at the front, or rebuild the order once removed ones dominate. */
  removedFromOrder(): void {
    this.orderGone++;
    while (this.orderStart < this.order.length && this.order[this.orderStart]!.gone) {
      this.orderStart++;
      this.orderGone--;
    }
    const span = this.order.length - this.orderStart;
    if (this.orderStart === this.order.length) {
      this.order = [];
      this.orderStart = 0;
      this.orderGone = 0;
    } else if (this.orderGone > 1024 && this.orderGone * 2 > span) {
      this.order = this.order.slice(this.orderStart).filter((t) => !t.gone);
      this.orderStart = 0;
      this.orderGone = 0;
    } else if (this.orderStart > 1024 && this.orderStart * 2 > this.order.length) {
      this.order = this.order.slice(this.orderStart);
      this.orderStart = 0;
    }
  }

  /** Forgets the listing order (every task was removed at once). */
  clearOrder(): void {
    this.order = [];
    this.orderStart = 0;
    this.orderGone = 0;
  }

  /** Index in `order` of the first task created after sequence number `seq`. */
  orderIndexAfter(seq: number): number {
    let lo = this.orderStart;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Feeds the enforced rate to the bucket; the burst shrinks with it, so a throttled queue cannot spend 100 tokens at once. */
  applyEnforcedRate(now: number): void {
    const rate = this.throttle.enforcedRate;
    this.bucket.configure(rate, Math.min(this.record.rateLimits.maxBurstSize, deriveBurstSize(rate)), now);
  }
}

const MAX_DROPPED_KEPT = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The Cloud Tasks engine: queues, tasks, scheduling, rate limits, retries and dispatch. It is
 * event-driven: each queue keeps a heap of due times, the engine keeps one heap of queue wake-ups
 * and a single timer for the earliest, so an idle emulator does nothing at all.
 */
export class Engine {
  private readonly queues = new Map<string, QueueRuntime>();
  private readonly remembered: RememberedNames;
  /** Names of deleted queues, reserved for `queueNameReserveMs`. */
  private readonly deletedQueues: RememberedNames;
  private readonly wakeups = new Heap<WakeEntry>((a, b) => a.at < b.at);
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private readonly dirty = new Set<QueueRuntime>();
  private flushScheduled = false;
  private inFlight = 0;
  private seq = 0;
  private readonly idPrefix = String(randomInt(10_000_000, 99_999_999));
  private idCounter = 0;
  private closed = false;
  private readonly idleWaiters: Array<{ resolve: () => void; reject: (e: Error) => void; timer: TimerHandle }> = [];
  private readonly dropped: DroppedTask[] = [];
  private readonly counters: EngineStats = { created: 0, dispatched: 0, succeeded: 0, failedAttempts: 0, dropped: 0, deleted: 0 };

  private readonly taskInput = new TaskInputValidator();
  private readonly listeners = new Set<EngineListener>();

  private readonly clock: Clock;

  constructor(private readonly options: EngineOptions) {
    this.remembered = new RememberedNames(options.dedupWindowMs);
    this.deletedQueues = new RememberedNames(options.queueNameReserveMs);
    this.clock = options.clock ?? realClock;
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
    if (this.queues.has(name.name)) throw queueAlreadyExists(name.name);
    if (this.deletedQueues.has(name.name, this.clock.now())) throw queueExistedRecently(name.name);
    const record = newQueueRecord(name.name, allowState ? input : { ...input, state: 'RUNNING' });
    this.queues.set(name.name, new QueueRuntime(record, this.clock.now(), this.options.throttling ?? 'model', this.options.throttleParams));
    this.options.logger.debug({ queue: name.name }, 'queue created');
    if (this.listeners.size > 0) this.emit({ kind: 'queue', queue: name.name });
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
    q.throttle.setMaxRate(next.rateLimits.maxDispatchesPerSecond);
    q.applyEnforcedRate(this.clock.now());
    this.pumpSoon(q);
    if (this.listeners.size > 0) this.emit({ kind: 'queue', queue: next.name });
    return next;
  }

  deleteQueue(name: string): void {
    const q = this.queues.get(parseQueueName(name).name);
    if (q === undefined) throw queueToDeleteNotFound(name);
    this.counters.deleted += q.tasks.size;
    for (const t of q.tasks.values()) t.gone = true;
    q.tasks.clear();
    q.clearOrder();
    q.due.clear();
    q.deleted = true;
    this.queues.delete(q.record.name);
    this.remembered.forgetPrefix(`${q.record.name}/tasks/`);
    this.deletedQueues.remember(q.record.name, this.clock.now());
    if (this.listeners.size > 0) this.emit({ kind: 'queue-deleted', queue: q.record.name });
    this.checkIdle();
  }

  /** PurgeQueue: every task that exists now is removed; responses still in flight are ignored. */
  purgeQueue(name: string): QueueRecord {
    const q = this.queue(name);
    const now = this.clock.now();
    for (const t of q.tasks.values()) {
      t.gone = true;
      if (t.named && !this.options.resetNamesOnPurge) this.remembered.remember(t.name, now);
    }
    this.counters.deleted += q.tasks.size;
    q.tasks.clear();
    q.clearOrder();
    q.due.clear();
    q.stale = 0;
    if (this.options.resetNamesOnPurge) this.remembered.forgetPrefix(`${q.record.name}/tasks/`);
    q.record = { ...q.record, purgeTimeMs: now };
    if (this.listeners.size > 0) this.emit({ kind: 'queue', queue: q.record.name, purged: true });
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
    if (this.listeners.size > 0) this.emit({ kind: 'queue', queue: q.record.name });
    if (state === 'RUNNING') this.pumpSoon(q);
    else this.checkIdle();
    return q.record;
  }

  // ---- IAM ----------------------------------------------------------------------------------

  /** GetIamPolicy: the queue's policy, empty until one is set. */
  getIamPolicy(resource: string): IamPolicy {
    return this.queue(resource).policy;
  }

  /** SetIamPolicy: replaces the queue's policy (an etag, when given, must be the current one). */
  setIamPolicy(resource: string, requested: { bindings: IamBinding[]; etag?: Buffer }): IamPolicy {
    const q = this.queue(resource);
    q.policy = nextPolicy(q.policy, requested);
    return q.policy;
  }

  /** TestIamPermissions: the permissions asked for that the caller holds; none on a missing queue. */
  testIamPermissions(resource: string, permissions: string[]): string[] {
    return grantedPermissions(permissions, this.queues.has(parseQueueName(resource).name));
  }

  // ---- tasks --------------------------------------------------------------------------------

  /** CreateTask: validates like production, schedules, and returns the new task. */
  createTask(parent: string, input: TaskInput): TaskRecord {
    // A parent that is a known queue's name is valid by construction: only a miss needs parsing
    // (which throws INVALID_ARGUMENT for a malformed name), which keeps regexes off the hot path.
    const q = this.queues.get(parent) ?? this.queues.get(parseQueueName(parent).name);
    if (q === undefined) throw queueNotFound(parent);
    if (q.record.state === 'DISABLED') throw failedPrecondition(`Queue ${q.record.name} is DISABLED: it accepts no tasks.`);
    const now = this.clock.now();
    const appEngine: AppEngineContext = { project: q.project, host: q.record.appEngineHost ?? this.options.appEngineHost };
    if (q.record.appEngineRoutingOverride !== undefined) appEngine.override = q.record.appEngineRoutingOverride;
    const valid = this.taskInput.validate(input, now, appEngine, q.defaultTarget ?? this.options.defaultTarget);
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
      if (q.tasks.has(name)) throw taskAlreadyExists(name, false);
      if (this.remembered.has(name, now)) throw taskAlreadyExists(name, true);
    } else {
      name = `${q.record.name}/tasks/${this.newId()}`;
    }
    const task: TaskRecord = {
      name,
      id: shortId(name),
      queueName: q.record.name,
      http: valid.http,
      ...(valid.appEngine !== undefined ? { appEngine: valid.appEngine } : {}),
      scheduleTimeMs: valid.scheduleTimeMs,
      createTimeMs: now,
      dispatchDeadlineMs: valid.dispatchDeadlineMs,
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
    const size = storedTaskSize(task);
    if (size > LIMITS.maxStoredTaskBytes) {
      throw invalidArgument(`Task size too large: the task takes ${size} bytes as stored, the maximum is ${LIMITS.maxStoredTaskBytes} bytes.`, [
        hint('Production counts the stored task: name, times, URL, headers (with User-Agent) and body. Keep large payloads elsewhere and send a reference.'),
      ]);
    }
    q.tasks.set(name, task);
    q.addToOrder(task);
    this.counters.created++;
    if (this.listeners.size > 0) this.emit({ kind: 'task-created', queue: q.record.name, task: name });
    this.schedule(q, task);
    return task;
  }

  getTask(name: string): TaskRecord {
    const parsed = parseTaskName(name);
    const q = this.queue(parsed.name);
    const task = q.tasks.get(parsed.taskName);
    if (task === undefined) throw taskNotFound(parsed.taskName, this.remembered.has(parsed.taskName, this.clock.now()));
    return task;
  }

  /** ListTasks in creation order. */
  listTasks(parent: string, requestedSize?: number, token?: string): Page<TaskRecord> {
    const q = this.queue(parent);
    const size = pageSize(requestedSize, LIMITS.maxListTasksPageSize);
    const after = token ? Number(decodePageToken(token, q.record.name)) : 0;
    const items: TaskRecord[] = [];
    let more = false;
    const order = q.order;
    for (let i = q.orderIndexAfter(after); i < order.length; i++) {
      const t = order[i]!;
      if (t.gone) continue;
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
    this.removeTask(q, task, this.clock.now());
    this.checkIdle();
  }

  /** RunTask: dispatches now, even if the queue is paused or rate limited. */
  runTask(name: string): TaskRecord {
    const task = this.getTask(name);
    const q = this.queues.get(task.queueName)!;
    if (q.record.state === 'DISABLED') throw failedPrecondition(`Queue ${q.record.name} is DISABLED: its tasks cannot run.`);
    this.startDispatch(q, task, this.clock.now());
    return task;
  }

  // ---- restart ------------------------------------------------------------------------------

  /**
   * Loads what a data directory kept (see data-dir.ts) into an engine that has no queues yet:
   * queues, tasks with their attempts and schedule (in creation order), and the names still
   * reserved. Tasks are scheduled again as they were; one that was in flight when the process
   * died is due at once, so it is dispatched again (at-least-once, as Cloud Tasks allows).
   */
  restore(state: RestoredState): void {
    if (this.queues.size > 0) throw new Error('Engine.restore needs an engine without queues');
    const now = this.clock.now();
    for (const record of state.queues) {
      this.queues.set(record.name, new QueueRuntime(record, now, this.options.throttling ?? 'model', this.options.throttleParams));
    }
    for (const [name, at] of state.deletedQueues) this.deletedQueues.remember(name, at);
    for (const [name, at] of state.releasedNames) this.remembered.remember(name, at);
    for (const task of [...state.tasks].sort((a, b) => a.seq - b.seq)) {
      const q = this.queues.get(task.queueName);
      if (q === undefined) continue;
      Object.assign(task, { gen: 0, scheduled: false, inFlight: 0, gone: false });
      q.tasks.set(task.name, task);
      q.addToOrder(task);
      this.seq = Math.max(this.seq, task.seq);
      this.schedule(q, task);
    }
  }

  // ---- inspection ---------------------------------------------------------------------------

  /** Per queue (short id): tasks held and not in flight. */
  *queueSizes(): Generator<{ queue: string; waiting: number }> {
    for (const q of this.queues.values()) yield { queue: q.id, waiting: Math.max(0, q.tasks.size - q.inFlight) };
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  /** Each queue's enforced rate, error share and load, sorted by name. */
  queueStats(): QueueStats[] {
    const now = this.clock.now();
    return [...this.queues.values()]
      .sort((a, b) => (a.record.name < b.record.name ? -1 : 1))
      .map((q) => ({
        queue: q.record.name,
        tasks: q.tasks.size,
        inFlight: q.inFlight,
        maxDispatchesPerSecond: q.record.rateLimits.maxDispatchesPerSecond,
        ...q.throttle.state(now),
      }));
  }

  /** Sets (or clears) the URL of one queue's tasks that name none; it wins over the engine's `defaultTarget`. */
  setDefaultTarget(name: string, url: string | undefined): void {
    const q = this.queue(name);
    if (url === undefined) delete q.defaultTarget;
    else q.defaultTarget = url;
  }

  /** Sets one queue's throttling (a queues file's `throttling`), keeping its configured limits. */
  setThrottling(name: string, mode: ThrottlingMode): void {
    const q = this.queue(name);
    q.throttle = new Throttle(q.record.rateLimits.maxDispatchesPerSecond, mode, this.options.throttleParams);
    q.applyEnforcedRate(this.clock.now());
  }

  droppedTasks(): DroppedTask[] {
    return this.dropped.map((d) => ({ ...d }));
  }

  /** Every queue of every location, sorted by name, with how many tasks it holds and has in flight. */
  queueSummaries(): QueueSummary[] {
    return [...this.queues.values()]
      .map((q) => ({ queue: q.record, tasks: q.tasks.size, inFlight: q.inFlight }))
      .sort((a, b) => (a.queue.name < b.queue.name ? -1 : a.queue.name > b.queue.name ? 1 : 0));
  }

  /**
   * Calls `listener` on every change of queues and tasks (see {@link EngineChange}); returns the
   * function that stops it. This is how the dashboard pushes live updates without polling.
   */
  onChange(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: EngineChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.options.logger.error({ err }, 'engine change listener failed');
      }
    }
  }

  /** Resolves once no RUNNING queue holds a task and nothing is in flight. */
  waitForIdle(timeoutMs = 30_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: this.clock.setTimer(() => {
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
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const w of this.idleWaiters.splice(0)) {
      this.clock.clearTimer(w.timer);
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
      this.clock.soon(this.flush);
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
    const now = this.clock.now();
    const maxConcurrent = q.record.rateLimits.maxConcurrentDispatches;
    const held = q.throttle.holdUntil(now); // a Retry-After holds the whole queue back
    if (held > 0) {
      if (q.due.size > 0) this.wakeAt(q, held);
      return;
    }
    for (;;) {
      const top = q.due.peek();
      if (top === undefined) break;
      if (top.task.gone || top.gen !== top.task.gen) {
        q.due.pop();
        if (q.stale > 0) q.stale--;
        continue;
      }
      // Due within the current millisecond counts as due: the clock has whole milliseconds, and a
      // schedule time of "now" from a client (with its sub-millisecond part) would otherwise wait
      // for a 1 ms timer, which Node rounds up to the next tick of its timer list.
      if (top.at >= now + 1) {
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
      if (this.timer) this.clock.clearTimer(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt === top.at) return;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timerAt = top.at;
    this.timer = this.clock.setTimer(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(0, top.at - this.clock.now())));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
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
    task.gen++; // heap entries of the task's earlier schedule are stale from now on
    const delivery: Delivery = { task, queueId: q.id, retryCount: task.dispatchCount };
    const attempt: AttemptRecord = { scheduleTimeMs: task.scheduleTimeMs, dispatchTimeMs: now };
    task.dispatchCount++;
    task.firstAttempt ??= { scheduleTimeMs: task.scheduleTimeMs, dispatchTimeMs: now };
    task.lastAttempt = attempt;
    task.inFlight++;
    q.inFlight++;
    this.inFlight++;
    this.counters.dispatched++;
    if (this.listeners.size > 0) this.emit({ kind: 'task-updated', queue: q.record.name, task: task.name });
    this.options.push(delivery).then(
      (result) => this.complete(q, task, attempt, result),
      (err: unknown) => this.complete(q, task, attempt, { kind: 'unreachable', message: String(err) }),
    );
  }

  private complete(q: QueueRuntime, task: TaskRecord, attempt: AttemptRecord, result: PushResult): void {
    task.inFlight--;
    q.inFlight--;
    this.inFlight--;
    if (this.closed) return;
    const now = this.clock.now();
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
    if (this.listeners.size > 0) this.emit({ kind: 'attempt', queue: q.record.name, task: task.name, ok, ...(status !== undefined ? { status } : {}) });

    this.observeThrottle(q, status, result, now);
    if (!task.gone) {
      if (ok) {
        this.removeTask(q, task, now);
      } else {
        task.previousResponse = status;
        task.retryReason = status !== undefined ? `HTTP status code ${status}` : result.kind === 'timeout' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE';
        // A RunTask may have dispatched the task again meanwhile: the last dispatch to finish
        // schedules the retry, whichever it is (the newest may finish first; waiting for it alone
        // would leave the task neither scheduled nor in flight — lost).
        if (task.inFlight === 0 && !task.scheduled) this.retryOrDrop(q, task, status, result, now);
      }
    }
    if (!q.deleted) this.pumpSoon(q);
    else this.checkIdle();
  }

  /** The throttling model sees every outcome; a changed enforced rate reaches the bucket and the log. */
  private observeThrottle(q: QueueRuntime, status: number | undefined, result: PushResult, now: number): void {
    const retryAfterMs = result.kind === 'response' && (status === 429 || status === 503) ? parseRetryAfter(result.retryAfter, now) : undefined;
    const before = q.throttle.enforcedRate;
    if (!q.throttle.observe(retryAfterMs === undefined ? { status } : { status, retryAfterMs }, now)) return;
    q.applyEnforcedRate(now);
    const after = q.throttle.enforcedRate;
    // Logged on decreases and when recovery crosses a power of two, not on every small step.
    if (after < before || Math.floor(Math.log2(after)) !== Math.floor(Math.log2(before)) || after === q.record.rateLimits.maxDispatchesPerSecond) {
      this.options.logger.info(
        { queue: q.record.name, enforcedRate: Number(after.toFixed(3)), errorShare: Number(q.throttle.state(now).errorShare.toFixed(3)), status },
        after < before ? 'queue throttled: enforced rate lowered' : 'queue recovering: enforced rate raised',
      );
    }
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
    // App Engine targets: "a 429 (Too Many Requests) response from an app handler does not cause
    // traffic congestion control to throttle the queue" (target.proto); 503 does.
    if (status === 503 || (status === 429 && task.appEngine === undefined)) {
      const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now) : undefined;
      delay = throttledDelayMs(delay, retry.maxBackoffMs, retryAfter);
    }
    task.scheduleTimeMs = now + delay;
    this.options.events?.retried(q.id);
    this.schedule(q, task);
    if (this.listeners.size > 0) this.emit({ kind: 'task-updated', queue: q.record.name, task: task.name });
  }

  private removeTask(q: QueueRuntime, task: TaskRecord, now: number): void {
    if (task.gone) return;
    task.gone = true;
    if (task.scheduled) {
      task.scheduled = false;
      q.stale++;
    }
    q.tasks.delete(task.name);
    q.removedFromOrder();
    if (task.named) this.remembered.remember(task.name, now);
    if (this.listeners.size > 0) this.emit({ kind: 'task-removed', queue: q.record.name, task: task.name });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private queue(name: string): QueueRuntime {
    const parsed = parseQueueName(name);
    const q = this.queues.get(parsed.name);
    if (q === undefined) throw queueNotFound(parsed.name);
    return q;
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
      this.clock.clearTimer(w.timer);
      w.resolve();
    }
  }
}

/** Production's ListQueues filter supports the queue state: `state: PAUSED` (or `state = PAUSED`). */
function parseQueueFilter(filter: string | undefined): QueueState | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const m = /^\s*state\s*[:=]\s*"?(RUNNING|PAUSED|DISABLED)"?\s*$/i.exec(filter);
  if (!m) throw invalidArgument(`Unsupported filter '${filter}': only 'state: RUNNING|PAUSED|DISABLED' is supported.`);
  return m[1]!.toUpperCase() as QueueState;
}
