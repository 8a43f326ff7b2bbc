import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, makeCommandRunner, type CommandRunnerOptions } from '../../src/work/command.js';
import { makeRunner } from '../../src/work/index.js';
import { logSink, makeCtx, makeJob, makeOptions } from './support.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'executor-command-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A runner for a shell script; the runner itself never uses a shell, the test chooses `sh`. */
const sh = (script: string, options: Partial<CommandRunnerOptions> = {}) => makeCommandRunner(['sh', '-c', script, 'job'], { ...makeOptions(), ...options });

/** True while `pid` runs; a zombie (killed, waiting for init to reap it) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the command name before it is in parentheses.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('command runner contract', () => {
  it('writes the payload as JSON to stdin and reports JSON stdout as the result', async () => {
    const runner = await sh('cat');
    expect(await runner.run(makeJob('gs://b/x'), makeCtx())).toEqual({ kind: 'success', result: makeJob('gs://b/x').payload });
  });

  it('passes the delivery metadata in EXECUTOR_* variables on top of the inherited environment', async () => {
    const runner = await makeCommandRunner(['sh', '-c', 'env'], { ...makeOptions(), env: { PATH: process.env.PATH, KEEP_ME: 'yes' } });
    const outcome = await runner.run(makeJob(), makeCtx({ attempt: 3, retryCount: 2, executionCount: 0, tier: 2, taskName: undefined }));
    const lines = outcome.kind === 'success' ? String(outcome.result).split('\n') : [];
    expect(lines).toEqual(
      expect.arrayContaining([
        'KEEP_ME=yes',
        'EXECUTOR_ATTEMPT=3',
        'EXECUTOR_MAX_ATTEMPTS=5',
        'EXECUTOR_RETRY_COUNT=2',
        'EXECUTOR_EXECUTION_COUNT=0',
        'EXECUTOR_TIER=2',
        'EXECUTOR_QUEUE=incoming',
        'EXECUTOR_FORMAT=proto-json',
      ]),
    );
    expect(lines.some((l) => l.startsWith('EXECUTOR_TASK='))).toBe(false);
  });

  it('runs argv without a shell: metacharacters in arguments stay literal', async () => {
    const runner = await makeCommandRunner(['echo', '$HOME; rm -rf / && `id`'], makeOptions());
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: '$HOME; rm -rf / && `id`' });
  });

  it('reports plain-text stdout as text and empty stdout as no result', async () => {
    expect(await (await sh('echo processed 3 rows')).run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'processed 3 rows' });
    expect(await (await sh('true')).run(makeJob(), makeCtx())).toEqual({ kind: 'success' });
  });
});

describe('command runner outcomes', () => {
  it('retries on exit 75 (EX_TEMPFAIL), quoting stderr', async () => {
    const runner = await sh('echo "upstream busy" >&2; exit 75');
    expect(await runner.run(makeJob(), makeCtx())).toEqual({
      kind: 'retryable',
      error: { type: 'ExitCode', message: 'command exited with 75 (EX_TEMPFAIL: retry later); stderr: upstream busy' },
    });
  });

  it('fails for good on any other non-zero exit, quoting stderr', async () => {
    const runner = await sh('echo "no such column" >&2; exit 2');
    expect(await runner.run(makeJob(), makeCtx())).toEqual({
      kind: 'permanent',
      error: { type: 'ExitCode', message: 'command exited with 2; stderr: no such column' },
    });
    expect(await (await sh('exit 1')).run(makeJob(), makeCtx())).toEqual({ kind: 'permanent', error: { type: 'ExitCode', message: 'command exited with 1' } });
  });

  it('retries when the command is killed by a signal it did not ask for', async () => {
    const runner = await sh('kill -9 $$');
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'retryable', error: { type: 'Signal', message: 'command was killed by SIGKILL' } });
  });

  it('keeps at most WORKER_MAX_OUTPUT_BYTES of stdout, drains the rest, and warns', async () => {
    const sink = logSink();
    // 4 MB: far more than the pipe buffer, so a runner that stopped reading would hang the command.
    const runner = await sh('head -c 4000000 /dev/zero | tr "\\0" a', { maxOutputBytes: 100 });
    const outcome = await runner.run(makeJob(), makeCtx({ logger: sink.logger }));
    expect(outcome).toEqual({ kind: 'success', result: 'a'.repeat(100) });
    expect(sink.lines.find((l) => l.severity === 'WARNING')).toMatchObject({ bytes: 4_000_000, maxOutputBytes: 100 });
  });

  it('quotes only the tail of a huge stderr', async () => {
    const runner = await sh('head -c 1000000 /dev/zero | tr "\\0" e >&2; echo " the real reason" >&2; exit 3');
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome.kind).toBe('permanent');
    const message = outcome.kind === 'permanent' ? outcome.error.message : '';
    expect(message.length).toBeLessThanOrEqual(2048);
    expect(message).toMatch(/the real reason$/);
    expect(message).toContain('stderr (last bytes)');
  });

  it('is not troubled by a command that exits without reading a large stdin', async () => {
    const runner = await sh('exit 0');
    const outcome = await runner.run({ format: 'envelope', payload: { blob: 'b'.repeat(1_000_000) } }, makeCtx());
    expect(outcome).toEqual({ kind: 'success' });
  });
});

describe('command runner time limit', () => {
  it('sends SIGTERM to the whole process group on timeout and retries with Timeout', async () => {
    const pidFile = join(dir, 'timeout.pid');
    const runner = await sh(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome).toMatchObject({ kind: 'retryable', error: { type: 'Timeout', message: expect.stringContaining('300 ms') } });
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(await waitFor(() => !alive(grandchild))).toBe(true);
  });

  it('follows up with SIGKILL when the command ignores SIGTERM', async () => {
    const runner = await sh("trap '' TERM; sleep 30", { timeoutMs: 100, killGraceMs: 200 });
    const started = Date.now();
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome).toMatchObject({ kind: 'retryable', error: { type: 'Timeout' } });
    // Far less than the 30 s sleep: SIGKILL ended it.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('reports Aborted and stops the command when the executor shuts down', async () => {
    const controller = new AbortController();
    const runner = await sh('sleep 30');
    const pending = runner.run(makeJob(), makeCtx({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toMatchObject({ kind: 'retryable', error: { type: 'Aborted' } });
  });

  it('finishes a command whose leftover background process still holds stdout', async () => {
    const pidFile = join(dir, 'straggler.pid');
    const runner = await sh(`sleep 30 & echo $! > ${pidFile}; echo done`, { timeoutMs: 10_000 });
    const outcome = await runner.run(makeJob(), makeCtx());
    expect(outcome).toEqual({ kind: 'success', result: 'done' });
    const straggler = Number(await readFile(pidFile, 'utf8'));
    expect(await waitFor(() => !alive(straggler))).toBe(true);
  });

  it('stops running commands when the runner closes', async () => {
    const runner = await sh('sleep 30', { killGraceMs: 200 });
    const pending = runner.run(makeJob(), makeCtx());
    await new Promise((r) => setTimeout(r, 50));
    await runner.close();
    expect(await pending).toMatchObject({ kind: 'retryable', error: { type: 'Aborted' } });
  });
});

describe('command runner startup and spawn failures', () => {
  it('refuses to start when the program is not in PATH', async () => {
    await expect(makeCommandRunner(['no-such-program-xyz', '--flag'], makeOptions())).rejects.toMatchObject({
      code: 'WORKER_COMMAND_NOT_FOUND',
      message: expect.stringContaining("'no-such-program-xyz' was not found in PATH"),
    });
  });

  it('refuses to start when a program path is missing or not executable', async () => {
    const script = join(dir, 'not-executable.sh');
    await writeFile(script, '#!/bin/sh\necho hi\n');
    await expect(makeCommandRunner([script], makeOptions())).rejects.toMatchObject({
      code: 'WORKER_COMMAND_NOT_FOUND',
      message: expect.stringContaining('not executable'),
    });
    await expect(makeCommandRunner([join(dir, 'missing')], makeOptions())).rejects.toMatchObject({ code: 'WORKER_COMMAND_NOT_FOUND' });
  });

  it('reports a program that vanished after startup as a retryable SpawnError', async () => {
    const script = join(dir, 'vanishing.sh');
    await writeFile(script, '#!/bin/sh\necho hi\n');
    await chmod(script, 0o755);
    const runner = await makeCommandRunner([script], makeOptions());
    expect(await runner.run(makeJob(), makeCtx())).toEqual({ kind: 'success', result: 'hi' });
    await unlink(script);
    expect(await runner.run(makeJob(), makeCtx())).toEqual({
      kind: 'retryable',
      error: { type: 'SpawnError', message: `cannot run '${script}': not found (ENOENT): check WORKER_COMMAND and PATH` },
    });
  });

  it('finds programs the way a shell does', async () => {
    expect(await findExecutable('sh')).toMatch(/\/sh$/);
    expect(await findExecutable('sh', { PATH: '' })).toBeUndefined();
  });

  it('is what makeRunner builds for a WORKER_COMMAND', async () => {
    const runner = await makeRunner({ kind: 'command', argv: ['cat'] }, makeOptions());
    expect(runner.kind).toBe('command');
    expect(await runner.run({ format: 'envelope', payload: [1, 2] }, makeCtx())).toEqual({ kind: 'success', result: [1, 2] });
    await runner.close();
  });
});
