/**
 * Where JSON log lines go by default: stdout, with every line of one event-loop turn joined into
 * one write at the end of that turn.
 *
 * Why not pino's default (an asynchronous sonic-boom): a busy executor answers a few dozen pushes
 * per turn, and sonic-boom appends each line to its pending string and measures that string's
 * byte length again on every write, so a turn's lines cost a copy of the whole pending text each;
 * its writes also go through the libuv thread pool. Joined here once per turn and written
 * synchronously, the delivery line costs a fraction of that (`npm run bench -- executor`,
 * docs/executor-performance.md). Synchronous is what Node itself does for stdout on pipes and files
 * on Linux; a log reader that stops reading makes the process wait instead of growing its memory.
 *
 * What it changes for a reader: a line is written when the current turn ends (microseconds later,
 * not when the call returns), and a synchronous job that blocks the event loop holds the lines
 * logged before it until it yields. Lines are never reordered. A process that exits (normally,
 * through `process.exit`, or on an uncaught exception) writes what is pending first; only a kill
 * that gives the process no chance (SIGKILL, out of memory) loses the current turn's lines.
 */
import pino, { type DestinationStream } from 'pino';

/** A turn's lines are written as soon as they reach this many characters, so one turn's burst stays bounded. */
export const TURN_BATCH_MAX_CHARS = 64 * 1024;

/** A destination that can also write what it holds at once (pino's `logger.flush` calls `flush`). */
export interface TurnBatchedDestination extends DestinationStream {
  /** Writes the pending lines now; `cb` once written. */
  flush(cb?: (err?: Error) => void): void;
}

/** Something lines are finally written to: a sonic-boom in production, a recorder in tests. */
export interface LineSink {
  write(text: string): unknown;
}

/**
 * Batches lines per event-loop turn into `sink` (one `write` per turn, or per
 * {@link TURN_BATCH_MAX_CHARS}). The caller flushes on exit; {@link stdoutDestination} does.
 */
export function makeTurnBatched(sink: LineSink, maxChars = TURN_BATCH_MAX_CHARS): TurnBatchedDestination {
  let pending: string[] = [];
  let chars = 0;
  let scheduled = false;
  const flushNow = (): void => {
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    chars = 0;
    sink.write(text);
  };
  const atTurnEnd = (): void => {
    scheduled = false;
    flushNow();
  };
  return {
    write(line: string) {
      pending.push(line);
      chars += line.length;
      if (chars >= maxChars) flushNow();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(atTurnEnd);
      }
    },
    flush(cb) {
      try {
        flushNow();
      } catch (err) {
        if (cb === undefined) throw err;
        cb(err as Error);
        return;
      }
      cb?.();
    },
  };
}

/** One batcher per file or descriptor: two loggers writing to stdout share it, so their lines keep their order. */
const shared = new Map<number | string, TurnBatchedDestination>();

/**
 * The default destination of JSON logs: `dest` (stdout unless given: a descriptor or a file path)
 * written synchronously through pino's sonic-boom, lines batched per turn, pending lines written
 * when the process exits.
 */
export function stdoutDestination(dest: number | string = 1): TurnBatchedDestination {
  const existing = shared.get(dest);
  if (existing !== undefined) return existing;
  const batched = makeTurnBatched(pino.destination({ dest, sync: true }));
  // 'exit' also fires for process.exit() and after an uncaught exception: the last turn's lines are
  // usually the ones that say why.
  process.on('exit', () => batched.flush(() => undefined));
  shared.set(dest, batched);
  return batched;
}
