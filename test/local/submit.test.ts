import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { decodeBody } from '../../src/executor/codecs.js';
import { parseSubmitArgs, submit, type QueueTarget, type SubmitOptions } from '../../src/local/submit.js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { newTasksClient } from '../../src/queues/index.js';
import { rejection } from '../helpers/rejection.js';

const QUEUE = 'projects/local-project/locations/us-central1/queues/incoming';
const queueOf = (o: SubmitOptions): string => (o.target as QueueTarget).queue;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('executor submit against the emulator', () => {
  let emulator: Emulator;
  let client: CloudTasksClient;
  const opts = (argv: string[]): SubmitOptions => parseSubmitArgs(['--emulator', emulator.address, ...argv], {}) as SubmitOptions;

  beforeAll(async () => {
    // Paused: the tasks stay in the queue for inspection instead of being pushed anywhere.
    emulator = await startEmulator({ port: 0, queues: { queues: [{ name: 'incoming', state: 'PAUSED' }] } });
    client = newTasksClient(emulator.address);
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  async function bodiesOf(names: string[]): Promise<Array<{ body: Buffer; headers: Record<string, string>; url: string; email?: string }>> {
    return Promise.all(
      names.map(async (name) => {
        const [task] = await client.getTask({ name, responseView: 'FULL' });
        const req = task.httpRequest!;
        return {
          body: Buffer.from(req.body!),
          headers: req.headers ?? {},
          url: req.url ?? '',
          ...(req.oidcToken?.serviceAccountEmail ? { email: req.oidcToken.serviceAccountEmail } : {}),
        };
      }),
    );
  }

  it('sends a good binary SvcWorkRequest with an OIDC token to tier 1 by default', async () => {
    const created = await submit(opts(['--id', 'one']), { tasks: client });
    expect(created).toHaveLength(1);
    expect(created[0]!.task!.startsWith(`${QUEUE}/tasks/`)).toBe(true);
    const [t] = await bodiesOf([created[0]!.task!]);
    expect(t!.url).toBe('http://127.0.0.1:8081/');
    expect(t!.email).toBe('executor-local@local-project.iam.gserviceaccount.com');
    expect(t!.headers['Content-Type']).toBe('application/x-protobuf');
    const decoded = decodeBody(t!.body);
    expect(decoded.job).toMatchObject({ format: 'proto-binary', webhookUrl: 'http://127.0.0.1:8090/notify', payload: { sourceFile: 'gs://demo-bucket/report.pdf' } });
    expect(decoded.context).toEqual({ id: 'one' });
  });

  it('sends --count invalid JSON requests with numbered ids', async () => {
    const created = await submit(opts(['--invalid', '--count', '3', '--encoding', 'json', '--id', 'bad', '--url', 'http://127.0.0.1:9/x']), { tasks: client });
    expect(created.map((c) => c.jobId).sort()).toEqual(['bad-1', 'bad-2', 'bad-3']);
    for (const t of await bodiesOf(created.map((c) => c.task!))) {
      expect(t.url).toBe('http://127.0.0.1:9/x');
      expect(decodeBody(t.body).job).toMatchObject({ format: 'proto-json', payload: { sourceFile: 'invalid' } });
    }
  });

  it('sends a JSON envelope from a file as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'executor-submit-'));
    const file = join(dir, 'job.json');
    writeFileSync(file, JSON.stringify({ payload: { sourceFile: 'gs://b/x' }, webhookUrl: 'http://127.0.0.1:8090/notify', id: 'env-1' }));
    const [created] = await submit(opts(['--file', file, '--no-oidc']), { tasks: client });
    const [t] = await bodiesOf([created!.task!]);
    expect(t!.email).toBeUndefined();
    expect(decodeBody(t!.body)).toMatchObject({ id: 'env-1', job: { format: 'envelope', payload: { sourceFile: 'gs://b/x' } } });
  });

  it('refuses a --file body the executor would not decode, before enqueueing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submit-'));
    const file = join(dir, 'wrong.json');
    writeFileSync(file, JSON.stringify({ payload: { sourceFile: 'gs://b/x' }, webhookUrl: 'not a url' }));
    const before = (await client.listTasks({ parent: queueOf(opts([])) }))[0].length;
    const err = await rejection(submit(opts(['--file', file, '--no-oidc']), { tasks: client }));
    expect(err).toMatchObject({ code: 'ENVELOPE_INVALID' });
    expect(err.message).toMatch(/not a body the executor accepts, so nothing was enqueued: Invalid JSON envelope: webhookUrl/);
    expect((await client.listTasks({ parent: queueOf(opts([])) }))[0].length).toBe(before);
  });

  it('sends a Firebase {"data": …} body from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submit-'));
    const file = join(dir, 'fb.json');
    writeFileSync(file, JSON.stringify({ data: { n: 1 } }));
    const [created] = await submit(opts(['--file', file, '--no-oidc']), { tasks: client });
    const [t] = await client.getTask({ name: created!.task!, responseView: 'FULL' });
    expect(decodeBody(Buffer.from(t.httpRequest!.body as Uint8Array)).job).toEqual({ format: 'firebase', payload: { n: 1 } });
  });

  it('sends --header values with the task and --schedule-time as its schedule time', async () => {
    const now = Date.now();
    const at = now + 3_600_000;
    const o = parseSubmitArgs(['--emulator', emulator.address, '--header', 'X-Trace:abc', '--header', 'Content-Type:application/vnd.work', '--schedule-time', '+1h'], {}, now) as SubmitOptions;
    const [created] = await submit(o, { tasks: client });
    const [task] = await client.getTask({ name: created!.task!, responseView: 'FULL' });
    expect(task.httpRequest!.headers).toMatchObject({ 'X-Trace': 'abc', 'Content-Type': 'application/vnd.work' });
    expect(Number(task.scheduleTime!.seconds) * 1000 + Math.round((task.scheduleTime!.nanos ?? 0) / 1e6)).toBe(at);
  });

  it('sends a --body-file as raw bytes, unchecked and unchanged, with its content type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submit-'));
    const file = join(dir, 'raw.bin');
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x7b, 0x20]);
    writeFileSync(file, bytes);
    const [created] = await submit(opts(['--body-file', file, '--content-type', 'application/x-thing']), { tasks: client });
    const [t] = await bodiesOf([created!.task!]);
    expect(t!.body.equals(bytes)).toBe(true);
    expect(t!.headers['Content-Type']).toBe('application/x-thing');
    const [plain] = await submit(opts(['--body-file', file]), { tasks: client });
    expect((await bodiesOf([plain!.task!]))[0]!.headers['Content-Type']).toBe('application/octet-stream');
  });

  it('refuses, with --wait and before sending anything, a body that leads to no notification it could follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submit-'));
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.from([0xff, 0xff, 0xff]));
    const noHook = join(dir, 'nohook.json');
    writeFileSync(noHook, JSON.stringify({ payload: { sourceFile: 'x' }, id: 'j' }));
    const noId = join(dir, 'noid.json');
    writeFileSync(noId, JSON.stringify({ payload: { sourceFile: 'x' }, webhookUrl: 'http://127.0.0.1:8090/notify' }));
    const before = (await client.listTasks({ parent: QUEUE }))[0].length;
    const garbageErr = await rejection(submit(opts(['--body-file', garbage, '--wait']), { tasks: client }));
    expect(garbageErr.code).toBe('SUBMIT_WAIT_IMPOSSIBLE');
    expect(garbageErr.message).toMatch(/the executor does not decode it .* dead-lettered and no notification comes.*Nothing was sent/);
    expect((await rejection(submit(opts(['--file', noHook, '--wait']), { tasks: client }))).message).toMatch(/names no webhookUrl/);
    expect((await rejection(submit(opts(['--body-file', noId, '--wait']), { tasks: client }))).message).toMatch(/names no job id/);
    expect((await client.listTasks({ parent: QUEUE }))[0].length).toBe(before);
  });

  it('refuses an invalid --file even with --count, before enqueueing any copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'submit-'));
    const file = join(dir, 'array.json');
    writeFileSync(file, '[1, 2]');
    const before = (await client.listTasks({ parent: QUEUE }))[0].length;
    expect(await rejection(submit(opts(['--file', file, '--count', '5']), { tasks: client }))).toMatchObject({ code: 'ENVELOPE_INVALID' });
    expect((await client.listTasks({ parent: QUEUE }))[0].length).toBe(before);
  });

  it('says the envelope file is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'executor-submit-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ payload: ');
    expect(await rejection(submit(opts(['--file', file]), { tasks: client }))).toMatchObject({ code: 'ENVELOPE_INVALID' });
  });

  it('maps NOT_FOUND to a message naming the queue and how to create it', async () => {
    const err = await rejection(submit(opts(['--queue', 'no-such-queue']), { tasks: client }));
    expect(err.code, err.message).toBe('QUEUE_NOT_FOUND');
    expect(err.message).toMatch(/no-such-queue does not exist on the emulator at/);
    expect(err.message).toMatch(/queues file/);
  });

  it('maps UNAVAILABLE to a message saying to start the emulator', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const lonely = newTasksClient(address);
    try {
      const err = await rejection(submit(parseSubmitArgs(['--emulator', address], {}) as SubmitOptions, { tasks: lonely }));
      expect(err.code).toBe('TASKS_UNAVAILABLE');
      expect(err.message).toMatch(new RegExp(`Cannot reach the emulator at ${address}.*executor emulator`));
    } finally {
      await lonely.close();
    }
  });

  it('prints the error and exits 1 from the command line', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'submit', '--emulator', address], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^executor: Cannot reach the emulator at/);
    expect(r.stdout).toBe('');
  });
});
