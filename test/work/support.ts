/** Shared fixtures of the runner tests: a delivery context, runner options, a log sink. */
import { Writable } from 'node:stream';
import { makeLogger } from '../../src/log.js';
import type { Job, RunContext, RunnerOptions } from '../../src/work/types.js';
import { defined, type Loose } from '../helpers/defined.js';

/** Log lines written by a logger made with {@link logSink}. */
export interface LogSink {
  lines: Record<string, unknown>[];
  logger: ReturnType<typeof makeLogger>;
}

/** A logger whose JSON lines are collected in memory, to assert on what was (not) logged. */
export function logSink(): LogSink {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: makeLogger({ level: 'debug', destination }) };
}

const silent = makeLogger({ level: 'silent' });

/** A delivery context for attempt 2 of 5 on tier 1, overridable field by field. */
export function makeCtx(overrides: Loose<RunContext> = {}): RunContext {
  return defined({
    attempt: 2,
    maxAttempts: 5,
    retryCount: 1,
    executionCount: 1,
    queue: 'incoming',
    taskName: 'task-123',
    tier: 1,
    signal: new AbortController().signal,
    logger: silent,
    ...overrides,
  }) as RunContext;
}

/** Runner options with a generous timeout and a 1 KiB output cap. */
export function makeOptions(overrides: Partial<RunnerOptions> = {}): RunnerOptions {
  return { timeoutMs: 10_000, maxOutputBytes: 1024, logger: silent, ...overrides };
}

/** A job in the original wire format's JSON shape. */
export function makeJob(sourceFile = 'gs://bucket/file.txt', overrides: Partial<Job> = {}): Job {
  return {
    format: 'proto-json',
    payload: { sourceFile, webhookUrl: 'http://127.0.0.1:9/hook', context: { id: 'job-1' } },
    webhookUrl: 'http://127.0.0.1:9/hook',
    ...overrides,
  };
}
