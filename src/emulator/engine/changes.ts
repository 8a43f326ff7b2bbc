/**
 * What the engine tells watchers (the dashboard) when its state changes. Emitted synchronously,
 * only when someone listens, so an engine without watchers pays one size check per event.
 */

/** One change of the engine's state; queue and task are full resource names. */
export type EngineChange =
  /** A queue was created, updated, paused, resumed or purged (`purged`: its tasks are gone). */
  | { kind: 'queue'; queue: string; purged?: true }
  /** A queue was deleted. */
  | { kind: 'queue-deleted'; queue: string }
  /** A task was created. */
  | { kind: 'task-created'; queue: string; task: string }
  /** A task was dispatched or rescheduled for a retry: its counters, attempts or schedule changed. */
  | { kind: 'task-updated'; queue: string; task: string }
  /** A dispatch ended: `ok` for a 2xx answer; `status` is the HTTP status when there was an answer. */
  | { kind: 'attempt'; queue: string; task: string; ok: boolean; status?: number }
  /** A task left its queue: completed, deleted or dropped after its retry limits. */
  | { kind: 'task-removed'; queue: string; task: string };

/** A watcher of engine changes; it must not throw and must not call back into the engine synchronously. */
export type EngineListener = (change: EngineChange) => void;
