/**
 * `--data-dir`: the emulator's state on disk, so a restart (even `kill -9`) loses nothing.
 *
 * A write-ahead log of JSON lines (`DIR/emulator.wal`), fed by the engine's change events. Each
 * change is written with one synchronous write(2) before the call that made it returns, i.e.
 * before the API answers: a process crash loses nothing acknowledged, since the kernel holds what
 * was written. fdatasync runs at most once per {@link SYNC_INTERVAL_MS}, so only a machine crash
 * or power cut can cost the last second. At start the log is folded into the state it describes,
 * loaded into the engine, and rewritten compacted (temp file, fsync, rename) before appending goes
 * on. A torn last line (the process died mid-write) is skipped; any other unreadable line stops
 * the start with an error, rather than silently dropping state.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Engine, RestoredState } from './engine/engine.js';
import type { EngineChange } from './engine/changes.js';
import type { QueueRecord, TaskRecord } from './model.js';

/** How often written changes are forced to the disk (fdatasync), at most. */
export const SYNC_INTERVAL_MS = 1000;
const WAL_FILE = 'emulator.wal';

/** A task as one log line holds it: Buffers as base64. */
type StoredTask = Omit<TaskRecord, 'http' | 'appEngine'> & {
  http: Omit<TaskRecord['http'], 'body'> & { body?: string };
  appEngine?: TaskRecord['appEngine'];
};

/** The mutable part of a task, written on each dispatch and retry. */
type TaskProgress = Pick<TaskRecord, 'name' | 'scheduleTimeMs' | 'dispatchCount' | 'responseCount' | 'executionCount' | 'firstAttempt' | 'lastAttempt' | 'previousResponse' | 'retryReason'>;

/** One line of the log. */
type Entry =
  | { op: 'queue'; record: QueueRecord }
  | { op: 'queue-deleted'; name: string; at: number }
  | { op: 'queue-purged'; name: string; at: number }
  | { op: 'task'; task: StoredTask }
  | { op: 'progress'; task: TaskProgress }
  | { op: 'task-removed'; name: string; named: boolean; at: number }
  | { op: 'name-reserved'; name: string; at: number };

// The log is our own file: checking each line's shape (not every field) catches a foreign or damaged file.
const withName = z.object({ name: z.string() }).loose();
const at = { name: z.string(), at: z.number() };
const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('queue'), record: withName }),
  z.object({ op: z.literal('queue-deleted'), ...at }),
  z.object({ op: z.literal('queue-purged'), ...at }),
  z.object({ op: z.literal('task'), task: z.object({ name: z.string(), queueName: z.string(), seq: z.number(), http: z.object({ url: z.string() }).loose() }).loose() }),
  z.object({ op: z.literal('progress'), task: withName }),
  z.object({ op: z.literal('task-removed'), ...at, named: z.boolean() }),
  z.object({ op: z.literal('name-reserved'), ...at }),
]);

/** The state a log describes, being folded. */
interface Folded {
  queues: Map<string, QueueRecord>;
  tasks: Map<string, TaskRecord>;
  releasedNames: Map<string, number>;
  deletedQueues: Map<string, number>;
}

const taskToStored = (t: TaskRecord): StoredTask => {
  const { http, ...rest } = t;
  const { body, ...target } = http;
  return { ...rest, http: body === undefined ? target : { ...target, body: body.toString('base64') } };
};

const taskFromStored = (t: StoredTask): TaskRecord => {
  const { http, ...rest } = t;
  const { body, ...target } = http;
  return { ...rest, http: body === undefined ? target : { ...target, body: Buffer.from(body, 'base64') } } as TaskRecord;
};

const progressOf = (t: TaskRecord): TaskProgress => {
  const p: TaskProgress = { name: t.name, scheduleTimeMs: t.scheduleTimeMs, dispatchCount: t.dispatchCount, responseCount: t.responseCount, executionCount: t.executionCount };
  if (t.firstAttempt !== undefined) p.firstAttempt = t.firstAttempt;
  if (t.lastAttempt !== undefined) p.lastAttempt = t.lastAttempt;
  if (t.previousResponse !== undefined) p.previousResponse = t.previousResponse;
  if (t.retryReason !== undefined) p.retryReason = t.retryReason;
  return p;
};

const forgetPrefix = <V>(m: Map<string, V>, prefix: string): void => {
  for (const k of m.keys()) if (k.startsWith(prefix)) m.delete(k);
};

/** Applies one entry to the state, as the engine applied the change (pure). */
export function applyEntry(s: Folded, e: Entry, resetNamesOnPurge: boolean): void {
  switch (e.op) {
    case 'queue':
      s.queues.set(e.record.name, e.record);
      return;
    case 'queue-deleted':
      s.queues.delete(e.name);
      forgetPrefix(s.tasks, `${e.name}/tasks/`);
      forgetPrefix(s.releasedNames, `${e.name}/tasks/`);
      s.deletedQueues.delete(e.name);
      s.deletedQueues.set(e.name, e.at);
      return;
    case 'queue-purged':
      for (const t of s.tasks.values()) {
        if (t.queueName !== e.name) continue;
        s.tasks.delete(t.name);
        if (t.named && !resetNamesOnPurge) reserve(s, t.name, e.at);
      }
      if (resetNamesOnPurge) forgetPrefix(s.releasedNames, `${e.name}/tasks/`);
      return;
    case 'task':
      s.tasks.set(e.task.name, taskFromStored(e.task));
      return;
    case 'progress': {
      const t = s.tasks.get(e.task.name);
      if (t !== undefined) Object.assign(t, e.task);
      return;
    }
    case 'task-removed':
      s.tasks.delete(e.name);
      if (e.named) reserve(s, e.name, e.at);
      return;
    case 'name-reserved':
      reserve(s, e.name, e.at);
  }
}

function reserve(s: Folded, name: string, at: number): void {
  s.releasedNames.delete(name); // re-inserted at the end: the map stays in release order
  s.releasedNames.set(name, at);
}

/** Folds the text of a log into the state it describes; a torn last line is skipped. */
export function foldLog(text: string, resetNamesOnPurge: boolean, file = WAL_FILE): RestoredState {
  const s: Folded = { queues: new Map(), tasks: new Map(), releasedNames: new Map(), deletedQueues: new Map() };
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    let entry: Entry;
    try {
      entry = entrySchema.parse(JSON.parse(line)) as unknown as Entry;
    } catch {
      // Only the last line can be half-written by a crash (the log is append-only).
      if (i === lines.length - 1) return;
      throw new ConfigError('EMULATOR_DATA_DIR_INVALID', [`${file} line ${i + 1} is not a log entry: the file is damaged or not the emulator's`]);
    }
    applyEntry(s, entry, resetNamesOnPurge);
  });
  return { queues: [...s.queues.values()], tasks: [...s.tasks.values()], releasedNames: [...s.releasedNames], deletedQueues: [...s.deletedQueues] };
}

/** The entries that recreate `s`: what a compacted log holds. */
function entriesOf(s: Folded): Entry[] {
  return [
    ...[...s.queues.values()].map((record): Entry => ({ op: 'queue', record })),
    ...[...s.deletedQueues].map(([name, at]): Entry => ({ op: 'queue-deleted', name, at })),
    ...[...s.releasedNames].map(([name, at]): Entry => ({ op: 'name-reserved', name, at })),
    ...[...s.tasks.values()].map((t): Entry => ({ op: 'task', task: taskToStored(t) })),
  ];
}

/** Drops reservations older than their window (both maps are in release order). */
function pruneExpired(m: Map<string, number>, windowMs: number, now: number): void {
  for (const [name, at] of m) {
    if (at + windowMs > now) break;
    m.delete(name);
  }
}

/** An open data directory: its log, appended to on every engine change. */
export interface DataDir {
  /** Forces what was written to the disk and closes the log. */
  close(): void;
}

/** What {@link openDataDir} needs besides the directory and the engine. */
export interface DataDirOptions {
  /** As the engine's: PurgeQueue forgets reserved names. */
  resetNamesOnPurge: boolean;
  /** As the engine's: how long released task names and deleted queues' names stay reserved (ms). */
  dedupWindowMs: number;
  queueNameReserveMs: number;
  now: () => number;
  /** The log is rewritten compacted once it has grown by this much and doubled; default 64 MiB. */
  compactAfterBytes?: number;
}

/**
 * Opens (creating it if needed) the data directory, loads its state into `engine` (which must
 * have no queues yet), compacts the log and appends every later change to it.
 */
export function openDataDir(dir: string, engine: Engine, options: DataDirOptions): DataDir {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new ConfigError('EMULATOR_DATA_DIR_INVALID', [`cannot create --data-dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  const file = join(dir, WAL_FILE);
  const restored = existsSync(file) ? foldLog(readFileSync(file, 'utf8'), options.resetNamesOnPurge, file) : { queues: [], tasks: [], releasedNames: [], deletedQueues: [] };
  engine.restore(restored);

  // The state the log describes, kept current: tasks are the engine's own records (restore keeps
  // the objects it is given), so a compaction writes them as they are now.
  const live: Folded = {
    queues: new Map(restored.queues.map((q) => [q.name, q])),
    tasks: new Map(restored.tasks.map((t) => [t.name, t])),
    releasedNames: new Map(restored.releasedNames),
    deletedQueues: new Map(restored.deletedQueues),
  };
  const compactAfter = options.compactAfterBytes ?? 64 * 1024 * 1024;
  let fd = -1;
  let compactedBytes = 0;
  let grownBytes = 0;

  // The new log is complete on disk before it replaces the old one, so a crash at any point
  // leaves one whole log.
  const compact = (): void => {
    pruneExpired(live.releasedNames, options.dedupWindowMs, options.now());
    pruneExpired(live.deletedQueues, options.queueNameReserveMs, options.now());
    const tmp = `${file}.tmp`;
    const tmpFd = openSync(tmp, 'w');
    const text = entriesOf(live).map((e) => `${JSON.stringify(e)}\n`).join('');
    if (text !== '') writeSync(tmpFd, text);
    fsyncSync(tmpFd);
    closeSync(tmpFd);
    renameSync(tmp, file);
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    if (fd >= 0) closeSync(fd);
    fd = openSync(file, 'a');
    compactedBytes = Buffer.byteLength(text);
    grownBytes = 0;
  };
  compact();

  let dirty = false;
  const sync = (): void => {
    if (!dirty) return;
    dirty = false;
    fdatasyncSync(fd);
  };
  const timer = setInterval(sync, SYNC_INTERVAL_MS);
  timer.unref();
  const write = (e: Entry): void => {
    const line = `${JSON.stringify(e)}\n`;
    writeSync(fd, line);
    dirty = true;
    grownBytes += Buffer.byteLength(line);
  };
  const afterWrite = (): void => {
    if (grownBytes > compactAfter && grownBytes > compactedBytes) compact();
  };

  const onChange = (c: EngineChange): void => {
    switch (c.kind) {
      case 'queue': {
        const record = engine.getQueue(c.queue);
        if (c.purged === true) {
          const e: Entry = { op: 'queue-purged', name: c.queue, at: record.purgeTimeMs ?? options.now() };
          write(e);
          applyEntry(live, e, options.resetNamesOnPurge);
        }
        write({ op: 'queue', record });
        live.queues.set(c.queue, record);
        break;
      }
      case 'queue-deleted': {
        const e: Entry = { op: 'queue-deleted', name: c.queue, at: options.now() };
        write(e);
        applyEntry(live, e, options.resetNamesOnPurge);
        break;
      }
      case 'task-created': {
        const task = engine.getTask(c.task);
        write({ op: 'task', task: taskToStored(task) });
        live.tasks.set(task.name, task);
        break;
      }
      case 'task-updated':
        write({ op: 'progress', task: progressOf(engine.getTask(c.task)) });
        break;
      case 'task-removed': {
        const e: Entry = { op: 'task-removed', name: c.task, named: live.tasks.get(c.task)?.named ?? false, at: options.now() };
        write(e);
        applyEntry(live, e, options.resetNamesOnPurge);
        break;
      }
      case 'attempt':
        return;
    }
    afterWrite();
  };
  const stop = engine.onChange(onChange);

  return {
    close: () => {
      stop();
      clearInterval(timer);
      sync();
      closeSync(fd);
    },
  };
}
