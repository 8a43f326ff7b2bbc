/**
 * `executor submit --wait` end to end: the CLI, as a shell runs it, against a local stack started
 * in this process (emulator, both tiers, webhook). It follows the jobs it created to their
 * notifications on the stack's webhook, prints them, and exits by outcome.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDevArgs, type DevOptions } from '../../src/local/dev-args.js';
import { followJobs } from '../../src/local/follow.js';
import { startStack, type Stack } from '../../src/local/stack.js';
import { rejection } from '../helpers/rejection.js';

let stack: Stack;

beforeAll(async () => {
  const options = parseDevArgs(['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0', '--jobs', '0']) as DevOptions;
  stack = await startStack(options, pino({ level: 'silent' }));
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `executor submit … --wait` against the stack, from the sources (spawned: the stack runs in this process). */
function submitCli(args: string[]): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'submit', '--emulator', stack.emulator.address, '--url', `${stack.tiers[0]!.url}/`, '--webhook', stack.webhookUrl, ...args],
    { env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('executor submit --wait', () => {
  it('prints the notification of the job it created and exits 0 when it succeeded', async () => {
    const r = await submitCli(['--id', 'wait-good', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^created projects\/local-project\/locations\/us-central1\/queues\/incoming\/tasks\/\S+ {2}\(job wait-good\)$/);
    expect(lines[1]).toBe('job wait-good succeeded (proto-binary)');
    expect(r.stdout).toContain('"id": "wait-good"');
  }, 60_000);

  it('follows every job through tier 2 to its failure notification, one JSON line each, and exits 1', async () => {
    const r = await submitCli(['--invalid', '--encoding', 'envelope', '--count', '2', '--id', 'wait-bad', '--wait', '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => 'task' in l).map((l) => l.jobId).sort()).toEqual(['wait-bad-1', 'wait-bad-2']);
    const notified = lines.filter((l) => 'outcome' in l);
    expect(notified.map((n) => n.jobId).sort()).toEqual(['wait-bad-1', 'wait-bad-2']);
    for (const n of notified) expect(n).toMatchObject({ outcome: 'failed', tier: 2, format: 'envelope', notifications: 1, error: expect.stringContaining('invalid') });
  }, 60_000);

  it('gives up after --wait-timeout with exit 1, naming the job a tier keeps refusing (no OIDC token: auth refused)', async () => {
    const refusedBefore = (await stack.tiers[0]!.counters()).authRejected;
    const r = await submitCli(['--id', 'wait-refused', '--no-oidc', '--wait', '--wait-timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^executor: No notification within 1 s for 1 of 1 jobs \(wait-refused\): they may still be retrying .* pass a longer --wait-timeout/);
    // The task is still there, refused on every dispatch: what the live progress line shows.
    expect((await stack.tiers[0]!.counters()).authRejected).toBeGreaterThan(refusedBefore);
  }, 60_000);
});

describe('following jobs on a webhook', () => {
  let foreign: Server;
  let foreignUrl: string;
  beforeAll(async () => {
    foreign = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not here</h1>'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => foreign.close(() => resolve())));

  it('says a webhook of your own cannot be followed, since it does not serve the job query', async () => {
    const err = await rejection(followJobs({ webhookUrl: foreignUrl, jobIds: ['a'], deadline: Date.now() + 60_000 }));
    expect(err.code).toBe('SUBMIT_WAIT_WEBHOOK_UNSUPPORTED');
    expect(err.message).toMatch(/does not answer GET \/notifications\?jobId=… as the local stack's webhook receiver does \(HTTP 404/);
  });

  it('says when the webhook is not running', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/notify`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await rejection(followJobs({ webhookUrl: url, jobIds: ['a'], deadline: Date.now() + 60_000 }));
    expect(err.code).toBe('SUBMIT_WAIT_WEBHOOK_UNREACHABLE');
    expect(err.message).toMatch(/is the local stack \(npm start\) or 'executor dev --webhook-only' still running\?/);
  });

  it('asks about more jobs than one request holds, in batches, and sees each notification once', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `batch-${i}`);
    // Notifications posted straight to the webhook, as the notifier queue would deliver them.
    await Promise.all(ids.map((id) => fetch(stack.webhookUrl, { method: 'POST', body: JSON.stringify({ context: { id } }), headers: { 'content-type': 'application/json' } })));
    const seen: string[] = [];
    const r = await followJobs({ webhookUrl: stack.webhookUrl, jobIds: ids, deadline: Date.now() + 60_000, onNotified: (n) => seen.push(n.jobId) });
    expect(r.missing).toEqual([]);
    expect(seen.sort()).toEqual([...ids].sort());
  });
});
