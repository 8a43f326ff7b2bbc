/** The stop-signal module, in a real child process: signals are process-wide. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function start(mode: 'quick' | 'stuck') {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/signal-child.ts', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const seen = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (out.includes(text)) resolve();
      };
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        check();
      });
      check();
    });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, seen, exited };
}

describe('untilStopSignal', () => {
  it('exits with the command\'s own exit code once it has stopped after SIGTERM', async () => {
    const { child, seen, exited } = start('quick');
    await seen('ready');
    child.kill('SIGTERM');
    await seen('stopping on SIGTERM');
    expect(await exited).toBe(3);
  });

  it('exits 1 at once on a second signal while the first stop is still running', async () => {
    const { child, seen, exited } = start('stuck');
    await seen('ready');
    child.kill('SIGINT');
    await seen('stopping on SIGINT');
    child.kill('SIGINT');
    expect(await exited).toBe(1);
  });
});
