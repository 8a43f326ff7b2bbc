/**
 * Shared pieces for executor tests: a valid configuration, a scripted runner, a logger whose lines
 * the test reads, and Cloud Tasks push headers.
 */
import { Writable } from 'node:stream';
import type { ExecutorConfig, QueuePath } from '../../src/config.js';
import { makeLogger } from '../../src/log.js';
import type { Job, RunContext, RunOutcome, Runner } from '../../src/work/types.js';

/** Queues used by the tests. */
export const Q = {
  incoming: 'projects/test-project/locations/us-central1/queues/incoming' as QueuePath,
  incoming2: 'projects/test-project/locations/us-central1/queues/incoming-2' as QueuePath,
  notifier: 'projects/test-project/locations/us-central1/queues/notifier' as QueuePath,
  deadLetter: 'projects/test-project/locations/us-central1/queues/dead-letter' as QueuePath,
};

/** A valid tier-1 configuration with auth disabled; override what the test is about. */
export function testConfig(overrides: Partial<ExecutorConfig> = {}): ExecutorConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    maxAttempts: 3,
    project: 'test-project',
    notifierQueue: Q.notifier,
    next: { queue: Q.incoming2, url: 'https://tier-2.example.test/' },
    tasksServiceAccount: 'tasks@test-project.iam.gserviceaccount.com',
    auth: { disabled: true },
    worker: { kind: 'module', module: 'demo' },
    workerTimeoutMs: 5000,
    workerMaxOutputBytes: 65536,
    shutdownGraceMs: 2000,
    logLevel: 'info',
    ...overrides,
  };
}

/** A runner that answers from a script and records what it was given. */
export interface ScriptedRunner extends Runner {
  calls: { job: Job; ctx: RunContext }[];
  /** Replaces the behaviour. */
  respond(fn: (job: Job, ctx: RunContext) => RunOutcome | Promise<RunOutcome>): void;
  closed: boolean;
}

/** A runner answering `success` until told otherwise. */
export function scriptedRunner(fn: (job: Job, ctx: RunContext) => RunOutcome | Promise<RunOutcome> = () => ({ kind: 'success' })): ScriptedRunner {
  let behaviour = fn;
  const runner: ScriptedRunner = {
    kind: 'scripted',
    calls: [],
    closed: false,
    respond(next) {
      behaviour = next;
    },
    async run(job, ctx) {
      runner.calls.push({ job, ctx });
      return behaviour(job, ctx);
    },
    async close() {
      runner.closed = true;
    },
  };
  return runner;
}

/** A logger writing parsed JSON lines into an array. */
export function captureLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: makeLogger({ level, destination }), lines, raw };
}

/**
 * Headers Cloud Tasks sets on a push. ExecutionCount defaults to RetryCount: every earlier
 * dispatch was answered with a counted (non-5xx) status, as in an ordinary retry sequence.
 */
export function pushHeaders(options: { queue?: string; task?: string; retryCount?: number; executionCount?: number; extra?: Record<string, string> } = {}) {
  const h: Record<string, string> = {
    'x-cloudtasks-queuename': options.queue ?? 'incoming',
    'x-cloudtasks-taskname': options.task ?? 'task-1',
    'x-cloudtasks-taskretrycount': String(options.retryCount ?? 0),
    'x-cloudtasks-taskexecutioncount': String(options.executionCount ?? options.retryCount ?? 0),
    'x-cloudtasks-tasketa': '1795000000.5',
    ...options.extra,
  };
  return h;
}
