import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/local/progress.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const FREE_PORTS = ['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0'];

/**
 * Runs `executor dev` as a user would, logs to a temp file. With `interrupt`, sends SIGINT once
 * stdout matches it.
 */
function runDev(args: string[], timeoutMs: number, interrupt?: RegExp): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'executor-dev-'));
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'dev', '--log-file', join(dir, 'dev.log'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (interrupt !== undefined && !interrupted && interrupt.test(stdout)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: `${stderr}\n--- log ---\n${safeRead(join(dir, 'dev.log')).slice(-4000)}`, ms: Date.now() - started });
    });
  });
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

describe('executor dev', () => {
  it(
    'runs 200 Cloud Tasks jobs and 20 Pub/Sub jobs through both tiers: each gets exactly one notification and one outcome event, valid ones succeed at tier 1, invalid ones fail after tier 2',
    async () => {
      const run = await runDev([...FREE_PORTS, '--jobs', '200', '--pubsub-jobs', '20', '--exit-when-done', '--json'], 90_000);
      expect(run.code, run.stderr).toBe(0);
      // --json keeps stdout to the one summary object.
      const lines = run.stdout.trim().split('\n');
      expect(lines, run.stdout).toHaveLength(1);
      const s = JSON.parse(lines[0]!) as Summary;
      expect(s).toMatchObject({ ok: true, jobs: 200, invalid: 40, succeeded: 160, failed: 40, lost: 0, duplicates: 0, wrongOutcome: 0, wrongTier: 0, timedOut: false });
      // The results topic accounts for every job of both paths, once each, from the right tier.
      expect(s.pubsub).toMatchObject({
        jobs: 20,
        invalid: 4,
        results: { jobs: 220, succeeded: 176, failed: 44, lost: 0, duplicates: 0, wrongOutcome: 0, wrongTier: 0, unexpected: 0 },
        undecodable: 0,
        deadLetterOutcomes: 0,
        deadLettered: 0,
      });
      const [tier1, tier2] = s.tiers;
      // Valid jobs end at tier 1; every invalid one (of either path) spends tier 1's budget and moves on.
      expect(tier1).toMatchObject({ tier: 1, notifiedSucceeded: 160, notifiedFailed: 0, forwarded: 44, authRejected: 0 });
      expect(tier1!.retried).toBe(44 * (tier1!.maxAttempts - 1));
      // Tier 2 spends its own budget on them, then sends the failure notifications (the Pub/Sub
      // jobs name no webhook: theirs are on the results topic only).
      expect(tier2).toMatchObject({ tier: 2, notifiedSucceeded: 0, notifiedFailed: 40, forwarded: 0, authRejected: 0 });
      expect(tier2!.retried).toBe(44 * (tier2!.maxAttempts - 1));
      expect(s.emulator.dropped).toBe(0);
    },
    100_000,
  );

  it('carries binary, proto-JSON and envelope jobs through the chain alike', async () => {
    const run = await runDev([...FREE_PORTS, '--jobs', '60', '--invalid-ratio', '0.5', '--encoding', 'mixed', '--exit-when-done', '--json'], 60_000);
    expect(run.code, run.stderr).toBe(0);
    // Envelope notifications name their tier: valid ones come from tier 1, invalid ones from tier 2.
    expect(JSON.parse(run.stdout) as Summary).toMatchObject({ ok: true, jobs: 60, succeeded: 30, failed: 30, lost: 0, duplicates: 0, wrongOutcome: 0, wrongTier: 0 });
  });

  it('exits 1 and reports the jobs still missing when --timeout passes first', async () => {
    // 300 invalid jobs need 900 dispatches from incoming-2, capped at 100/s: never done in 1 s.
    const run = await runDev([...FREE_PORTS, '--jobs', '300', '--invalid-ratio', '1', '--timeout', '1', '--exit-when-done', '--json'], 60_000);
    expect(run.code, run.stderr).toBe(1);
    const s = JSON.parse(run.stdout) as Summary;
    expect(s).toMatchObject({ ok: false, timedOut: true, jobs: 300 });
    expect(s.lost).toBeGreaterThan(0);
    expect(s.samples?.lost?.length).toBeGreaterThan(0);
  });

  it('prints the summary, keeps serving, and stops cleanly on Ctrl-C', async () => {
    const run = await runDev([...FREE_PORTS, '--jobs', '5'], 60_000, /Still serving/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/export CLOUD_TASKS_EMULATOR_HOST=127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/Done after .* 5 jobs \(1 invalid\) — 4 succeeded, 1 failed, 0 lost, 0 duplicates/);
    expect(run.stdout).toMatch(/Every job got exactly one notification/);
    expect(run.stdout).toMatch(/SIGINT: stopping\./);
  });

  it('refuses bad flags with a message and exit code 2 (a usage error)', async () => {
    const run = await runDev(['--jobs', 'lots'], 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--jobs must be an integer/);
  });

  it('says which component and flag when a port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = busy.address() as AddressInfo;
      const run = await runDev(['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', String(port), '--jobs', '1'], 30_000);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`The webhook cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use.*--webhook-port 0`));
    } finally {
      busy.close();
    }
  });
});

describe('executor dev --webhook-only', () => {
  it('serves alone, logs each notification as JSON to stdout, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'dev', '--webhook-only', '--webhook-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${stdout}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /"url":"(http:[^"]+)"/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const res = await fetch(`${url}/notify`, { method: 'POST', body: JSON.stringify({ context: { id: 'solo-1' } }) });
    expect(res.status).toBe(200);
    expect(await (await fetch(`${url}/stats`)).json()).toMatchObject({ succeeded: 1, jobs: 1 });
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.jobId === 'solo-1')).toMatchObject({ severity: 'INFO', outcome: 'succeeded', format: 'proto-json' });
  });
});
