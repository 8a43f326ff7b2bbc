/** `executor dev --worker-module/--worker-url/--worker-command`: the local chain runs the user's own work. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LOCAL_SERVICE_ACCOUNT } from '../../src/local/defaults.js';
import { parseDevArgs, type DevOptions } from '../../src/local/dev-args.js';
import { startStack, tierEnv, type Stack } from '../../src/local/stack.js';

const FREE = ['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0'];

/** Pushes one envelope job into 'incoming' (the stack's default target sends it to tier 1) and waits for its notification. */
async function runJob(stack: Stack, payload: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify({ id: 'own-1', payload, webhookUrl: stack.webhookUrl }));
  const res = await fetch(`${stack.emulator.url}/v2/${stack.incomingQueue}/tasks`, {
    method: 'POST',
    body: JSON.stringify({ task: { httpRequest: { url: '', body: body.toString('base64'), oidcToken: { serviceAccountEmail: LOCAL_SERVICE_ACCOUNT } } } }),
  });
  expect(res.status).toBe(200);
  await stack.emulator.waitForIdle({ timeoutMs: 20_000 });
}

describe('executor dev with your own work', () => {
  it('parses each --worker-* flag into the variable executor serve reads, the module path made absolute, and defaults --jobs to 0', () => {
    const m = parseDevArgs(['--worker-module', 'handlers/x.mjs']) as DevOptions;
    expect(m.work).toEqual({ WORKER_MODULE: join(process.cwd(), 'handlers/x.mjs') });
    expect(m.jobs).toBe(0);
    expect((parseDevArgs(['--worker-url', 'http://127.0.0.1:9000/work']) as DevOptions).work).toEqual({ WORKER_URL: 'http://127.0.0.1:9000/work' });
    expect((parseDevArgs(['--worker-command', 'node work.js']) as DevOptions).work).toEqual({ WORKER_COMMAND: 'node work.js' });
    expect((parseDevArgs([]) as DevOptions).work).toEqual({ WORKER_MODULE: 'demo' });
    expect((parseDevArgs([]) as DevOptions).jobs).toBe(300);
  });

  it('refuses two kinds of work at once, a bad URL, and the demo batch with your own work', () => {
    expect(() => parseDevArgs(['--worker-module', 'a.mjs', '--worker-url', 'http://x/'])).toThrow(/at most one of --worker-module, --worker-url, --worker-command/);
    expect(() => parseDevArgs(['--worker-url', 'nope'])).toThrow(/--worker-url must be an http\(s\) URL/);
    expect(() => parseDevArgs(['--worker-module', 'a.mjs', '--jobs', '5'])).toThrow(/--jobs 5 submits the demo batch/);
  });

  it('gives each tier exactly the chosen work, in place of the demo', () => {
    const env = { host: '127.0.0.1', project: 'p', location: 'l', webhookUrl: 'http://w', emulator: { address: 'a', issuer: 'i', jwksUrl: 'j' }, logLevel: 'info' };
    const t = tierEnv({ ...env, work: { WORKER_COMMAND: 'node w.js' } }, { tier: 1, port: 1, maxAttempts: 3 });
    expect(t.WORKER_COMMAND).toBe('node w.js');
    expect(t.WORKER_MODULE).toBeUndefined();
    expect(tierEnv(env, { tier: 2, port: 2, maxAttempts: 3 }).WORKER_MODULE).toBe('demo');
  });

  it('runs a job through your handler module on tier 1 and notifies its success', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-worker-'));
    const seen = join(dir, 'seen.json');
    writeFileSync(
      join(dir, 'handler.mjs'),
      `import { writeFileSync } from 'node:fs';\nexport default async function handler(job, ctx) {\n  writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ payload: job.payload, tier: ctx.tier }));\n  return { doubled: job.payload.n * 2 };\n}\n`,
    );
    const stack = await startStack(parseDevArgs([...FREE, '--worker-module', join(dir, 'handler.mjs')]) as DevOptions, pino({ level: 'silent' }));
    try {
      await runJob(stack, { n: 21 });
      expect(JSON.parse(readFileSync(seen, 'utf8'))).toEqual({ payload: { n: 21 }, tier: 1 });
      expect(stack.webhook.tally.snapshot()).toMatchObject({ succeeded: 1 });
    } finally {
      await stack.close();
    }
  }, 60_000);

  it('runs a job through your HTTP worker', async () => {
    const jobs: unknown[] = [];
    const worker = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        jobs.push(JSON.parse(text));
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(worker.address() as AddressInfo).port}/work`;
    const stack = await startStack(parseDevArgs([...FREE, '--worker-url', url]) as DevOptions, pino({ level: 'silent' }));
    try {
      await runJob(stack, { n: 1 });
      expect(jobs).toHaveLength(1);
      expect(JSON.stringify(jobs[0])).toContain('"n":1');
      expect(stack.webhook.tally.snapshot()).toMatchObject({ succeeded: 1 });
    } finally {
      await stack.close();
      worker.close();
    }
  }, 60_000);
});
