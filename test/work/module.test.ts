import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunner } from '../../src/work/index.js';
import { loadHandlerModule, makeModuleRunner } from '../../src/work/module.js';
import type { Handler } from '../../src/work/types.js';
import { logSink, makeCtx, makeJob, makeOptions } from './support.js';

let dir: string;

async function moduleFile(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'executor-module-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loading WORKER_MODULE', () => {
  it('loads a default export, resolving a relative path against the working directory', async () => {
    const path = await moduleFile('default.mjs', 'export default (job) => ({ seen: job.payload.sourceFile });');
    const loaded = await loadHandlerModule(relative(process.cwd(), path));
    expect(loaded.path).toBe(path);
    const runner = makeModuleRunner(loaded, makeOptions());
    expect(await runner.run(makeJob('a.txt'), makeCtx())).toEqual({ kind: 'success', result: { seen: 'a.txt' } });
  });

  it('loads a named `handler` export, and one inside a CommonJS module', async () => {
    const named = await loadHandlerModule(await moduleFile('named.mjs', 'export const handler = () => "named";'));
    expect(await makeModuleRunner(named, makeOptions()).run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'named' });
    const cjs = await loadHandlerModule(await moduleFile('legacy.cjs', 'module.exports = { handler: () => "cjs" };'));
    expect(await makeModuleRunner(cjs, makeOptions()).run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'cjs' });
  });

  it('fails at startup with WORKER_MODULE_NOT_FOUND when the file does not exist', async () => {
    await expect(loadHandlerModule('no/such/handler.mjs')).rejects.toMatchObject({
      code: 'WORKER_MODULE_NOT_FOUND',
      message: expect.stringContaining(join(process.cwd(), 'no/such/handler.mjs')),
    });
    await expect(loadHandlerModule(dir)).rejects.toMatchObject({ code: 'WORKER_MODULE_NOT_FOUND' });
  });

  it('fails at startup with WORKER_MODULE_LOAD_FAILED when the module does not parse or throws', async () => {
    const broken = await moduleFile('broken.mjs', 'export default (job) => {');
    await expect(loadHandlerModule(broken)).rejects.toMatchObject({ code: 'WORKER_MODULE_LOAD_FAILED', message: expect.stringContaining(broken) });
    const throwing = await moduleFile('throwing.mjs', 'throw new Error("missing DATABASE_URL");');
    await expect(loadHandlerModule(throwing)).rejects.toMatchObject({
      code: 'WORKER_MODULE_LOAD_FAILED',
      message: expect.stringContaining('missing DATABASE_URL'),
    });
  });

  it('fails at startup with WORKER_MODULE_NO_HANDLER naming the exports it found', async () => {
    const path = await moduleFile('nohandler.mjs', 'export const run = () => 1; export const version = 2;');
    await expect(loadHandlerModule(path)).rejects.toMatchObject({
      code: 'WORKER_MODULE_NO_HANDLER',
      message: expect.stringContaining("'run', 'version'"),
    });
  });

  it('calls the module\'s close export when the runner closes', async () => {
    const path = await moduleFile(
      'closing.mjs',
      'export let closed = 0; export default () => closed; export async function close() { closed += 1; }',
    );
    const runner = await makeRunner({ kind: 'module', module: path }, makeOptions());
    await runner.close();
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 1 });
  });
});

describe('module runner outcomes', () => {
  const run = (handler: Handler, options = makeOptions(), ctx = makeCtx()) => makeModuleRunner({ handler }, options).run(makeJob(), ctx);

  it('gives the handler the job and the delivery context', async () => {
    let seen: unknown;
    await run((job, ctx) => {
      seen = { payload: job.payload, attempt: ctx.attempt, max: ctx.maxAttempts, queue: ctx.queue, task: ctx.taskName, tier: ctx.tier };
    });
    expect(seen).toEqual({ payload: makeJob().payload, attempt: 2, max: 5, queue: 'incoming', task: 'task-123', tier: 1 });
  });

  it('gives a synchronous handler a live signal that has not fired', async () => {
    let state: unknown;
    expect(await run((_job, ctx) => {
      state = { aborted: ctx.signal.aborted, isSignal: ctx.signal instanceof AbortSignal };
    })).toEqual({ kind: 'success' });
    expect(state).toEqual({ aborted: false, isSignal: true });
  });

  it('succeeds without a result when the handler returns nothing, sync or async', async () => {
    expect(await run(() => undefined)).toEqual({ kind: 'success' });
    expect(await run(async () => undefined)).toEqual({ kind: 'success' });
  });

  it('makes a thrown or rejected ordinary error retryable', async () => {
    expect(await run(() => {
      throw new RangeError('bad range');
    })).toEqual({ kind: 'retryable', error: { type: 'RangeError', message: 'bad range' } });
    expect(await run(() => Promise.reject(new Error('later')))).toEqual({ kind: 'retryable', error: { type: 'Error', message: 'later' } });
  });

  it('honours PermanentError, RetryableError and IgnoreError', async () => {
    const { PermanentError, RetryableError, IgnoreError } = await import('../../src/work/index.js');
    expect(await run(async () => {
      throw new PermanentError('unknown format', { type: 'Validation' });
    })).toEqual({ kind: 'permanent', error: { type: 'Validation', message: 'unknown format' } });
    expect(await run(() => {
      throw new RetryableError('rate limited');
    })).toEqual({ kind: 'retryable', error: { type: 'Error', message: 'rate limited' } });
    expect(await run(() => {
      throw new IgnoreError('already processed');
    })).toEqual({ kind: 'ignore', reason: 'already processed' });
  });

  it('times out a handler that honours its signal, as a retryable Timeout', async () => {
    let aborted = false;
    const outcome = await run(
      (_job, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason as Error);
          });
        }),
      makeOptions({ timeoutMs: 50 }),
    );
    expect(aborted).toBe(true);
    expect(outcome).toEqual({ kind: 'retryable', error: { type: 'Timeout', message: expect.stringContaining('50 ms') } });
  });

  it('times out a handler that ignores its signal instead of hanging the delivery', async () => {
    const outcome = await run(() => new Promise(() => undefined), makeOptions({ timeoutMs: 50 }));
    expect(outcome).toMatchObject({ kind: 'retryable', error: { type: 'Timeout' } });
  });

  it('keeps a permanent failure declared after the timeout fired', async () => {
    const { PermanentError } = await import('../../src/work/errors.js');
    const outcome = await run(
      (_job, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new PermanentError('input too large to ever finish')));
        }),
      makeOptions({ timeoutMs: 30 }),
    );
    expect(outcome).toEqual({ kind: 'permanent', error: { type: 'Error', message: 'input too large to ever finish' } });
  });

  it('reports Aborted when the caller aborts (shutdown) before the time limit', async () => {
    const controller = new AbortController();
    const pending = run(() => new Promise(() => undefined), makeOptions(), makeCtx({ signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'retryable', error: { type: 'Aborted' } });
  });

  it('reports a result over WORKER_MAX_OUTPUT_BYTES truncated, with a warning', async () => {
    const sink = logSink();
    const outcome = await run(() => ({ blob: 'x'.repeat(5000) }), makeOptions({ maxOutputBytes: 100 }), makeCtx({ logger: sink.logger }));
    expect(outcome.kind).toBe('success');
    expect(outcome.kind === 'success' && typeof outcome.result).toBe('string');
    expect(sink.lines.some((l) => l.severity === 'WARNING' && String(l.message).includes('WORKER_MAX_OUTPUT_BYTES'))).toBe(true);
    // The payload itself never reaches the log.
    expect(JSON.stringify(sink.lines)).not.toContain('xxxxxxxxxx');
  });
});

describe('demo handler', () => {
  it('fails a job whose sourceFile is "invalid" with a retryable "Error: invalid source file"', async () => {
    const runner = await makeRunner({ kind: 'module', module: 'demo' }, makeOptions());
    expect(runner.kind).toBe('module');
    expect(await runner.run(makeJob('invalid'), makeCtx())).toEqual({
      kind: 'retryable',
      error: { type: 'Error', message: 'invalid source file' },
    });
  });

  it('succeeds for any other job, including one without a sourceFile', async () => {
    const runner = await makeRunner({ kind: 'module', module: 'demo' }, makeOptions());
    expect(await runner.run(makeJob('gs://bucket/ok.txt'), makeCtx())).toEqual({ kind: 'success' });
    expect(await runner.run({ format: 'envelope', payload: { anything: 1 } }, makeCtx())).toEqual({ kind: 'success' });
    expect(await runner.run({ format: 'envelope', payload: null }, makeCtx())).toEqual({ kind: 'success' });
  });
});
