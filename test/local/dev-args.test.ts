import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUES_FILE, parseDevArgs } from '../../src/local/dev-args.js';
import { checkQueuesFile } from '../../src/local/queues-check.js';
import { rejection } from '../helpers/rejection.js';

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return ((err as { problems?: readonly string[] }).problems ?? [(err as Error).message]).join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('executor dev flags', () => {
  it('defaults to a few hundred jobs on fixed local ports with the shipped queues file', () => {
    expect(parseDevArgs([], {})).toMatchObject({
      mode: 'stack',
      host: '127.0.0.1',
      emulatorPort: 8123,
      tier1Port: 8081,
      tier2Port: 8082,
      webhookPort: 8090,
      queuesFile: DEFAULT_QUEUES_FILE,
      jobs: 300,
      invalidRatio: 0.2,
      encoding: 'binary',
      exitWhenDone: false,
      json: false,
      timeoutMs: 120_000,
    });
  });

  it('takes the flags the issue names', () => {
    const o = parseDevArgs(['--jobs', '200', '--invalid-ratio', '0.5', '--exit-when-done', '--json', '--port', '0', '--encoding', 'mixed'], {});
    expect(o).toMatchObject({ jobs: 200, invalidRatio: 0.5, exitWhenDone: true, json: true, emulatorPort: 0, encoding: 'mixed' });
  });

  it('names every bad value at once', () => {
    const p = problems(() => parseDevArgs(['--jobs', 'many', '--invalid-ratio', '1.5', '--port', '70000', '--encoding', 'xml', '--log-level', 'loud'], {}));
    expect(p).toMatch(/--jobs must be an integer from 0 to 100000, got 'many'/);
    expect(p).toMatch(/--invalid-ratio must be a number from 0 to 1, got '1.5'/);
    expect(p).toMatch(/--port must be an integer from 0 to 65535, got '70000'/);
    expect(p).toMatch(/--encoding must be/);
    expect(p).toMatch(/--log-level must be one of/);
  });

  it('rejects unknown flags and a flag missing its value', () => {
    expect(problems(() => parseDevArgs(['--turbo'], {}))).toMatch(/turbo/);
    expect(problems(() => parseDevArgs(['--jobs'], {}))).toMatch(/jobs/);
  });

  it('refuses two components on the same fixed port', () => {
    expect(problems(() => parseDevArgs(['--tier1-port', '9000', '--tier2-port', '9000'], {}))).toMatch(/--tier2-port 9000 is already used/);
    expect(parseDevArgs(['--tier1-port', '0', '--tier2-port', '0'], {})).toMatchObject({ tier1Port: 0, tier2Port: 0 });
  });

  it('runs the webhook alone on $PORT for containers, and refuses stack flags with it', () => {
    expect(parseDevArgs(['--webhook-only', '--host', '0.0.0.0'], { PORT: '8080' })).toEqual({ mode: 'webhook-only', host: '0.0.0.0', port: 8080, logLevel: 'info' });
    expect(parseDevArgs(['--webhook-only', '--webhook-port', '9999'], { PORT: '8080' })).toMatchObject({ port: 9999 });
    expect(problems(() => parseDevArgs(['--webhook-only', '--jobs', '5'], {}))).toMatch(/--webhook-only takes only .* got --jobs/);
  });

  it('answers help', () => {
    expect(parseDevArgs(['-h'], {})).toBe('help');
  });
});

describe('queues file check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'executor-local-'));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('accepts the shipped queues file with the default budgets', async () => {
    await expect(checkQueuesFile(DEFAULT_QUEUES_FILE, { tier1: 3, tier2: 3 })).resolves.toEqual({ project: 'local-project', location: 'us-central1', withDefaultTarget: new Set() });
  });

  it('refuses a queue that would drop tasks before the tier hands them off', async () => {
    const file = write(
      'tight.yaml',
      'queues:\n  - name: incoming\n    retryConfig: { maxAttempts: 3 }\n  - name: incoming-2\n  - name: notifier\n  - name: dead-letter\n',
    );
    const err = await rejection(checkQueuesFile(file, { tier1: 3, tier2: 3 }));
    expect(err.code).toBe('QUEUES_FILE_INVALID');
    expect(err.message).toMatch(/queue 'incoming' allows 3 attempts but tier 1's MAX_ATTEMPTS is 3/);
  });

  it('names the queues the stack needs when some are missing', async () => {
    const err = await rejection(checkQueuesFile(write('few.yaml', 'queues:\n  - name: incoming\n'), { tier1: 3, tier2: 3 }));
    expect(err.message).toMatch(/declares no queue 'incoming-2'/);
    expect(err.message).toMatch(/declares no queue 'dead-letter'/);
  });

  it('says which file cannot be read', async () => {
    const err = await rejection(checkQueuesFile(join(dir, 'nope.yaml'), { tier1: 3, tier2: 3 }));
    expect(err.code).toBe('QUEUES_FILE_UNREADABLE');
    expect(err.message).toMatch(/nope\.yaml/);
  });
});
