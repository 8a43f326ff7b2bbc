/**
 * The drift check without EXECUTOR_QUEUE: the first authenticated push names the executor's queue,
 * and `executor serve` checks that queue's max_attempts against MAX_ATTEMPTS, through the real
 * client against the emulator.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { PushVerifier } from '../../src/executor/auth.js';
import { buildApp } from '../../src/executor/app.js';
import { checkQueueDrift } from '../../src/executor/drift.js';
import { startExecutor } from '../../src/executor/index.js';
import { firstQueueDrift } from '../../src/executor/serve.js';
import { newEmulatorClient } from '../../src/queues/tasks-client.js';
import { captureLogger, pushHeaders, scriptedRunner, testConfig } from '../helpers/executor-fixtures.js';

const body = JSON.stringify({ sourceFile: 'gs://bucket/file' });

describe('the first push names the queue for the drift check', () => {
  it('reports only the first authenticated push, never a rejected one', async () => {
    const seen: string[] = [];
    let allow = false;
    const verifier: PushVerifier = {
      verify: async () => (allow ? { ok: true } : { ok: false, status: 403, code: 'AUTH_EMAIL_NOT_ALLOWED', reason: 'no' }),
    };
    const app = buildApp({
      config: testConfig({ auth: { disabled: false, allowedEmails: ['a@b.c'], issuers: ['x'] } }),
      runner: scriptedRunner(),
      tasks: { createTask: () => Promise.reject(new Error('unused')) },
      logger: captureLogger().logger,
      verifier,
      onFirstQueue: (id) => seen.push(id),
    });
    const push = (queue: string) =>
      app.inject({ method: 'POST', url: '/', headers: { ...pushHeaders({ queue }), authorization: 'Bearer t', 'content-type': 'application/json' }, payload: body });
    expect((await push('attacker-queue')).statusCode).toBe(403);
    expect(seen).toEqual([]);
    allow = true;
    expect((await push('incoming')).statusCode).toBe(200);
    expect((await push('other')).statusCode).toBe(200);
    expect(seen).toEqual(['incoming']);
    await app.close();
  });

  it('skips the check with a hint when the project or location is unknown', () => {
    const { logger, lines } = captureLogger();
    const checked: string[] = [];
    firstQueueDrift(testConfig({ project: undefined }), 'incoming', (q) => checked.push(q), logger);
    expect(checked).toEqual([]);
    expect(String(lines.at(-1)?.message)).toMatch(/EXECUTOR_QUEUE/);
  });

  describe('against the emulator', () => {
    let emulator: Emulator;
    let client: CloudTasksClient;

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, queues: { queues: [{ name: 'incoming', retryConfig: { maxAttempts: 3 } }] } });
      client = newEmulatorClient(emulator.address);
    });
    afterAll(async () => {
      await client.close();
      await emulator.close();
    });

    it('logs QUEUE_MAX_ATTEMPTS_TOO_LOW once when the first push comes from a queue no larger than the budget', async () => {
      const { logger, lines } = captureLogger();
      const config = testConfig({ maxAttempts: 3, project: 'local-project', tasksLocation: 'us-central1', next: undefined, notifierQueue: undefined });
      const executor = await startExecutor(config, {
        logger,
        runner: scriptedRunner(),
        tasksClient: client,
        onFirstQueue: (id) => firstQueueDrift(config, id, (q) => void checkQueueDrift({ client, queue: q, maxAttempts: config.maxAttempts, logger }), logger),
      });
      try {
        for (const task of ['t1', 't2']) {
          const res = await fetch(`${executor.url}/`, { method: 'POST', headers: pushHeaders({ queue: 'incoming', task }), body });
          expect(res.status).toBe(200);
        }
        await expect.poll(() => lines.filter((l) => l.code === 'QUEUE_MAX_ATTEMPTS_TOO_LOW').length, { timeout: 10_000 }).toBe(1);
        const line = lines.find((l) => l.code === 'QUEUE_MAX_ATTEMPTS_TOO_LOW')!;
        expect(line.queue).toBe('projects/local-project/locations/us-central1/queues/incoming');
        expect(String(line.message)).toMatch(/max_attempts 3.*MAX_ATTEMPTS=3/);
      } finally {
        await executor.close();
      }
    });
  });
});
