/**
 * The command runner: each job runs a process from `WORKER_COMMAND`, spawned without a shell (the
 * argv array as given, so nothing in a payload or a header can be interpreted as shell syntax).
 * The payload is written to stdin as JSON; delivery facts are in `EXECUTOR_*` environment
 * variables. Exit 0 is success (stdout, bounded, is the result), 75 (EX_TEMPFAIL from sysexits.h)
 * retryable, any other code permanent; death by a signal, a timeout or a failure to spawn is
 * retryable. On timeout the whole process group gets SIGTERM, then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CodedError } from '../errors.js';
import { HeadCollector, TailCollector } from './bounded.js';
import { describeAbort, startDeadline } from './deadline.js';
import { metadataEnv } from './metadata.js';
import { MAX_ERROR_MESSAGE_CHARS, resultFromOutput, truncateUtf8 } from './outcome.js';
import type { Job, RunContext, RunOutcome, Runner, RunnerOptions } from './types.js';

/** Exit code that asks for a retry (EX_TEMPFAIL in sysexits.h). */
export const EX_TEMPFAIL = 75;

/** How much of stderr's tail goes into a failure's message. */
const STDERR_TAIL_BYTES = 2048;

/** How long after the command exits its pipes may stay open (held by processes it started). */
const STRAGGLER_GRACE_MS = 1000;

/** Options of the command runner beyond the common ones. */
export interface CommandRunnerOptions extends RunnerOptions {
  /** Time between SIGTERM and SIGKILL when a run times out or the runner closes (default 5 s). */
  killGraceMs?: number;
  /** Working directory of the processes (default: the executor's). */
  cwd?: string;
  /** Base environment of the processes (default: the executor's); `EXECUTOR_*` are added on top. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Finds the executable `command` names, as a shell would: a path (containing `/`) is taken as is
 * (relative to `cwd`), a bare name is searched in PATH. Returns undefined when there is none.
 */
export async function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, command));
  for (const candidate of candidates) {
    if (await access(candidate, fsConstants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/**
 * Builds the runner for `argv`, checking first that `argv[0]` exists and is executable so a typo
 * stops startup (`WORKER_COMMAND_NOT_FOUND`) rather than failing every delivery. (Long because the
 * runner is a closure over the set of running children, which `close` must reach.)
 */
export async function makeCommandRunner(argv: readonly string[], options: CommandRunnerOptions): Promise<Runner> {
  const [command, ...args] = argv;
  if (command === undefined || command === '') {
    throw new CodedError('WORKER_COMMAND_INVALID', 'WORKER_COMMAND is empty: give the program to run and its arguments');
  }
  const baseEnv = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if ((await findExecutable(command, baseEnv, cwd)) === undefined) {
    throw new CodedError(
      'WORKER_COMMAND_NOT_FOUND',
      command.includes('/')
        ? `WORKER_COMMAND program '${command}' does not exist or is not executable (chmod +x it, or run it through its interpreter, e.g. ["node", "${command}"])`
        : `WORKER_COMMAND program '${command}' was not found in PATH (${baseEnv.PATH ?? 'unset'}): install it or give its full path`,
    );
  }
  const { timeoutMs, maxOutputBytes } = options;
  const killGraceMs = options.killGraceMs ?? 5000;
  const running = new Set<ChildProcess>();
  let shuttingDown = false;

  // One child's whole life in one promise: spawn, feed stdin, collect output within bounds, and
  // settle exactly once whichever of exit, error, deadline or abort comes first. Its handlers share
  // that state, so they stay together rather than being split apart.
  const runOnce = (job: Job, ctx: RunContext): Promise<RunOutcome> =>
    new Promise<RunOutcome>((settle) => {
      const deadline = startDeadline(ctx.signal, timeoutMs);
      const stdout = new HeadCollector(maxOutputBytes);
      const stderr = new TailCollector(STDERR_TAIL_BYTES);
      let killTimer: NodeJS.Timeout | undefined;
      let exitTimer: NodeJS.Timeout | undefined;
      let spawnError: NodeJS.ErrnoException | undefined;
      let child: ChildProcess;
      try {
        child = spawn(command, args, {
          cwd,
          env: { ...baseEnv, ...metadataEnv(job, ctx) },
          stdio: ['pipe', 'pipe', 'pipe'],
          shell: false,
          // Its own process group, so a timeout can stop the command and everything it started.
          detached: true,
        });
      } catch (err) {
        deadline.dispose();
        settle(spawnFailure(command, err as NodeJS.ErrnoException));
        return;
      }
      running.add(child);

      const signalGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is gone already; fall back to the child itself in case it left its group.
          child.kill(signal);
        }
      };
      const onDeadline = () => {
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
        killTimer.unref();
      };
      deadline.signal.addEventListener('abort', onDeadline, { once: true });

      child.stdout!.on('data', (chunk: Buffer) => {
        // Past the cap the bytes are counted and dropped; reading on keeps the child from blocking.
        stdout.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A command that exits without reading its stdin makes the write fail with EPIPE: not an error.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(JSON.stringify(job.payload ?? null));

      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
      });
      child.on('exit', () => {
        // 'close' waits for the pipes, which a process the command left behind may still hold:
        // stop the rest of the group and stop waiting, so a finished command does not time out.
        exitTimer = setTimeout(() => {
          signalGroup('SIGKILL');
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, STRAGGLER_GRACE_MS);
        exitTimer.unref();
      });
      child.on('close', (code, signal) => {
        running.delete(child);
        deadline.signal.removeEventListener('abort', onDeadline);
        if (killTimer !== undefined) clearTimeout(killTimer);
        if (exitTimer !== undefined) clearTimeout(exitTimer);
        // Stopped by close() at shutdown: the same as the caller aborting, not a crash.
        const cause = deadline.cause() ?? (shuttingDown && code !== 0 ? 'aborted' : undefined);
        deadline.dispose();
        if (spawnError !== undefined && child.pid === undefined) return settle(spawnFailure(command, spawnError));
        if (cause !== undefined) return settle({ kind: 'retryable', error: withStderr(describeAbort(cause, timeoutMs), stderr) });
        if (code === 0) {
          if (stdout.truncated) {
            ctx.logger.warn({ maxOutputBytes, bytes: stdout.total }, 'command stdout is larger than WORKER_MAX_OUTPUT_BYTES; reporting it truncated');
          }
          const result = resultFromOutput(truncateUtf8(stdout.bytes(), maxOutputBytes), stdout.truncated);
          return settle(result === undefined ? { kind: 'success' } : { kind: 'success', result });
        }
        if (code === null) {
          return settle({ kind: 'retryable', error: withStderr({ type: 'Signal', message: `command was killed by ${signal ?? 'a signal'}` }, stderr) });
        }
        const error = withStderr(
          { type: 'ExitCode', message: code === EX_TEMPFAIL ? `command exited with ${code} (EX_TEMPFAIL: retry later)` : `command exited with ${code}` },
          stderr,
        );
        settle(code === EX_TEMPFAIL ? { kind: 'retryable', error } : { kind: 'permanent', error });
      });
    });

  return {
    kind: 'command',
    run: runOnce,
    async close() {
      // Commands still running at shutdown get the same SIGTERM-then-SIGKILL as on a timeout.
      shuttingDown = true;
      const children = [...running];
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return done();
              child.once('close', () => done());
              const kill = (signal: NodeJS.Signals) => {
                try {
                  process.kill(-child.pid!, signal);
                } catch {
                  child.kill(signal);
                }
              };
              kill('SIGTERM');
              setTimeout(() => kill('SIGKILL'), killGraceMs).unref();
            }),
        ),
      );
    },
  };
}

function spawnFailure(command: string, err: NodeJS.ErrnoException): RunOutcome {
  const why =
    err.code === 'ENOENT'
      ? 'not found (ENOENT): check WORKER_COMMAND and PATH'
      : err.code === 'EACCES'
        ? 'permission denied (EACCES): make it executable'
        : `${err.code ?? 'error'}: ${err.message}`;
  return { kind: 'retryable', error: { type: 'SpawnError', message: `cannot run '${command}': ${why}` } };
}

function withStderr(error: { type: string; message: string }, stderr: TailCollector): { type: string; message: string } {
  const tail = stderr.text().trim();
  if (tail === '') return error;
  const prefix = `${error.message}; stderr${stderr.truncated ? ' (last bytes)' : ''}: `;
  // The end of stderr is where the reason usually is: when the message is too long, cut its start.
  const room = MAX_ERROR_MESSAGE_CHARS - prefix.length;
  return { type: error.type, message: prefix + (tail.length <= room ? tail : `…${tail.slice(tail.length - room + 1)}`) };
}
