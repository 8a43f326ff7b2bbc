/**
 * The image without Docker: compile as the build stage does, lay out a directory the way the
 * runtime stage does (its COPY instructions, read from the Dockerfile), install production
 * dependencies only, then run the image's CMD from there. Catches a runtime import of a dev
 * dependency, a file read at runtime that the image does not copy (proto/work.proto), and a
 * server that does not exit 0 on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, execForm, last, parseCopy, parseDockerfile } from './dockerfile.js';

const ROOT = resolve(import.meta.dirname, '../..');
let app: string;
let server: ChildProcess | undefined;

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-4000)}`))));
  });
}

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'executor-image-'));
  const dockerfile = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = dockerfile.stages.at(-1)!;
  for (const copy of all(runtime, 'COPY').map((c) => parseCopy(c.args))) {
    if (copy.from !== undefined) continue; // the build output: compiled below
    for (const source of copy.sources) {
      const dest = copy.dest === './' ? join(app, source) : join(app, copy.dest);
      await cp(join(ROOT, source), dest, { recursive: true });
    }
  }
  // The build stage's `npm run build` (tsc -p tsconfig.build.json), written straight into the
  // layout instead of the working tree's dist/.
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], ROOT);
  // The runtime stage's install; --prefer-offline reuses the npm cache the repository's install filled.
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
}, 240_000);

afterAll(async () => {
  if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  if (app !== undefined) await rm(app, { recursive: true, force: true });
});

describe('the image, run from a production install', () => {
  it('serves /health, runs a push through the codec and the demo worker, and exits 0 on SIGTERM', async () => {
    const dockerfile = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    const cmd = execForm(last(dockerfile.stages.at(-1)!, 'CMD')!.args)!;
    expect(cmd[0]).toBe('node');

    const child = spawn(process.execPath, cmd.slice(1), {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only what the container would have: no dev tooling, no inherited executor settings.
      env: { PATH: process.env.PATH, HOME: app, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', WORKER_MODULE: 'demo', AUTH_DISABLED: 'true' },
    });
    server = child;
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));

    const port = await new Promise<number>((done, fail) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        buffered += chunk.toString();
        for (const line of buffered.split('\n').slice(0, -1)) {
          const entry = JSON.parse(line) as { message?: string; port?: number };
          if (entry.message === 'executor listening' && typeof entry.port === 'number') done(entry.port);
        }
        buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
      });
      void exited.then(({ code }) => fail(new Error(`executor serve exited ${code} before listening:\n${output}`)));
    });
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);

    // A SvcWorkRequest in its proto3 JSON mapping: decoding it loads proto/work.proto from dist/'s
    // parent, as in the image. No webhook and no notifier: success is simply acknowledged.
    const push = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cloudtasks-queuename': 'incoming', 'x-cloudtasks-taskname': 't1', 'x-cloudtasks-taskretrycount': '0' },
      body: JSON.stringify({ sourceFile: 'gs://bucket/report.pdf', context: { id: 'job-1' } }),
    });
    expect(push.status, await push.text()).toBeLessThan(300);

    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
  }, 30_000);
});
