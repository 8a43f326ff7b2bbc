/**
 * The package as a user meets it: its name (not npm's unrelated `executor`), its `executor` bin,
 * the import the docs show, and `npm start` as one node process that a signal stops entirely.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('the package name and bin', () => {
  it('is published as cloud-tasks-executor with the executor command', () => {
    expect(pkg.name).toBe('cloud-tasks-executor');
    expect(pkg.bin).toEqual({ executor: 'dist/cli.js' });
    expect(JSON.parse(read('package-lock.json')).name).toBe('cloud-tasks-executor');
  });

  it('shows handler imports from the package name, never from the unrelated `executor`', () => {
    for (const file of docs) {
      const text = read(file);
      expect(text, file).not.toMatch(/from ['"]executor['"]/);
      expect(text, file).not.toMatch(/npx (tsx src\/cli\.ts|executor (submit|emulator|dev|simulate)\b)/);
    }
    expect(read('README.md')).toMatch(/import \{[^}]+\} from 'cloud-tasks-executor'/);
  });

  it('says how to depend on it before it is published: from git or a path', () => {
    const readme = read('README.md');
    expect(readme).toMatch(/npm install git\+https:/);
    expect(readme).toMatch(/npm install \.\.\/cloud-tasks-executor/);
  });
});

/** A port nothing listens on now (bound then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether the port can be bound again, i.e. nothing kept it. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('npm start', () => {
  beforeAll(() => {
    // What `prestart` does; incremental, so cheap when dist/ is current.
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }, 120_000);

  it('builds first, then runs the built CLI with node itself: no tsx, npx or shell in between', () => {
    expect(pkg.scripts.prestart).toMatch(/npm run build/);
    expect(pkg.scripts.start).toBe('node dist/cli.js dev');
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(
      `stops the whole stack on ${signal} to that one process and frees every port`,
      async () => {
        const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
        const [emulator, tier1, tier2, webhook] = ports.map(String) as [string, string, string, string];
        const [command, ...args] = (pkg.scripts.start ?? '').split(' ');
        expect(command).toBe('node');
        const dir = mkdtempSync(join(tmpdir(), 'executor-start-'));
        const child = spawn(
          process.execPath,
          [...args, '--jobs', '0', '--port', emulator, '--tier1-port', tier1, '--tier2-port', tier2, '--webhook-port', webhook, '--log-file', join(dir, 'dev.log')],
          { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('Still serving')) resolve();
          });
          void exited.then(() => reject(new Error(`exited before serving:\n${out}\n${err}`)));
        });
        for (const port of ports) expect(await isFree(port), `port ${port} in use while serving`).toBe(false);
        child.kill(signal);
        expect(await exited).toBe(0);
        expect(out).toContain(`${signal}: stopping.`);
        for (const port of ports) expect(await isFree(port), `port ${port} still held after ${signal}`).toBe(true);
      },
      90_000,
    );
  }
});
