/**
 * `executor submit --topic` against the project's own emulator: the job is published through the
 * official @google-cloud/pubsub client, its data the same body bytes a queue task would carry, with
 * attributes to filter on without decoding.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { decodeBody } from '../../src/executor/codecs.js';
import { parseSubmitArgs, submit, type SubmitOptions } from '../../src/local/submit.js';
import { makePublishMessage, newPubSubClient } from '../../src/queues/publish-message.js';
import { until } from '../emulator/pubsub/helpers.js';
import { rejection } from '../helpers/rejection.js';

let emulator: Emulator;
let pubsub: PubSub;
const received: Message[] = [];
let closeSub: () => Promise<void>;

beforeAll(async () => {
  process.env.METADATA_SERVER_DETECTION = 'none';
  emulator = await startEmulator({ port: 0 });
  pubsub = newPubSubClient(emulator.address, 'local-project');
  const [topic] = await pubsub.createTopic('jobs');
  const [sub] = await topic.createSubscription('jobs-pull');
  sub.on('message', (m: Message) => {
    received.push(m);
    m.ack();
  });
  sub.on('error', () => {});
  closeSub = () => sub.close();
});
afterAll(async () => {
  await closeSub?.();
  await pubsub?.close();
  await emulator?.close();
});

const opts = (argv: string[]): SubmitOptions => parseSubmitArgs(['--emulator', emulator.address, '--topic', 'jobs', ...argv], {}) as SubmitOptions;
const via = () => ({ publish: makePublishMessage(pubsub, { timeoutMs: 10_000, explain: { emulatorHost: emulator.address } }) });

describe('executor submit --topic', () => {
  it('publishes each request as the message data, with format and jobId attributes', async () => {
    const created = await submit(opts(['--id', 'topic-job', '--count', '2', '--encoding', 'json']), via());
    expect(created.map((c) => c.jobId).sort()).toEqual(['topic-job-1', 'topic-job-2']);
    expect(created.every((c) => typeof c.message === 'string' && c.message !== '')).toBe(true);
    await until(() => received.filter((m) => m.attributes.jobId?.startsWith('topic-job-')).length === 2, 'the two messages');
    for (const m of received.filter((x) => x.attributes.jobId?.startsWith('topic-job-'))) {
      expect(m.attributes).toEqual({ format: 'proto-json', jobId: m.attributes.jobId });
      expect(decodeBody(m.data).context).toEqual({ id: m.attributes.jobId });
      expect(created.map((c) => c.message)).toContain(m.id);
    }
  });

  it('publishes a --body-file as the same raw bytes, with no format when the executor would not decode it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'topic-')), 'raw.bin');
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    writeFileSync(file, bytes);
    const [created] = await submit(opts(['--body-file', file]), via());
    await until(() => received.some((m) => m.id === created!.message), 'the raw message');
    const m = received.find((x) => x.id === created!.message)!;
    expect(m.data.equals(bytes)).toBe(true);
    expect(m.attributes).toEqual({});
  });

  it('publishes from the command line and prints the message id', async () => {
    // Spawned, not spawnSync: the emulator runs in this process and must keep answering.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'submit', '--emulator', emulator.address, '--topic', 'jobs', '--id', 'cli-topic'], {
      env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
    r.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^published message \S+ to projects\/local-project\/topics\/jobs {2}\(job cli-topic\)\n$/);
  }, 60_000);

  it('names a missing topic and how to create it', async () => {
    const missing = parseSubmitArgs(['--emulator', emulator.address, '--topic', 'nope'], {}) as SubmitOptions;
    const err = await rejection(submit(missing, via()));
    expect(err.code).toBe('TOPIC_NOT_FOUND');
    expect(err.message).toMatch(/Topic projects\/local-project\/topics\/nope does not exist on the emulator at .*create it with any Pub\/Sub client/);
  });
});
