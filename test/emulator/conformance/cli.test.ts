// Pins the `executor emulator` command: it prints where it listens (including the
// CLOUD_TASKS_EMULATOR_HOST line), serves the queues file, and exits cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeGrpcClient, makeRestClient } from './helpers/clients.js';
import { LOCATION_PATH } from './helpers/harness.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('executor emulator (CLI)', () => {
  it('prints the address and the export line, serves gRPC and REST on it, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulator-cli-'));
    const file = join(dir, 'queues.yaml');
    await writeFile(file, 'queues:\n  - name: from-cli\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'emulator', '--host', '127.0.0.1', '--port', '0', '--queues', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      const address = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no export line within 15 s; stdout: ${out}; stderr: ${err}`)), 15_000);
        const check = (): void => {
          const m = /export CLOUD_TASKS_EMULATOR_HOST=['"]?([^\s'"]+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[1]!);
          }
        };
        child.stdout.on('data', check);
        child.on('exit', () => rej(new Error(`exited early; stdout: ${out}; stderr: ${err}`)));
      });
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
      expect(port).toBeGreaterThan(0);
      expect(out).toContain(`http://${address}`);
      expect(out).toMatch(/jwks/i);
      for (const client of [makeGrpcClient({ host, port }), makeRestClient({ host, port })]) {
        const [queue] = await client.getQueue({ name: `${LOCATION_PATH}/queues/from-cli` });
        expect(queue.name).toBe(`${LOCATION_PATH}/queues/from-cli`);
        await client.close();
      }
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
