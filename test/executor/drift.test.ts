/**
 * The startup drift check: the pure comparison as a table, and checkQueueDrift through the real
 * CloudTasksClient against the emulator (queues configured too small and right, reconfigured at
 * runtime), and against a stub client for the one shape the emulator never produces (a queue read
 * back without a retry config).
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { checkQueueDrift } from '../../src/executor/drift.js';
import { newEmulatorClient } from '../../src/queues/tasks-client.js';
import { startEmulatedTasks, type EmulatedTasks } from '../helpers/emulated-tasks.js';
import { captureLogger } from '../helpers/executor-fixtures.js';

describe('checkQueueDrift against the emulator', () => {
  const path = (q: string) => `projects/local-project/locations/us-central1/queues/${q}`;
  let emulator: Emulator;
  let client: CloudTasksClient;

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      queues: {
        queues: [
          // The original README's advice: the queue's attempts equal to MAX_ATTEMPTS.
          { name: 'too-small', retryConfig: { maxAttempts: 5 } },
          { name: 'unlimited', retryConfig: { maxAttempts: -1 } },
          { name: 'margin', retryConfig: { maxAttempts: 15 } },
        ],
      },
    });
    client = newEmulatorClient(emulator.address);
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('logs an error naming both numbers for a queue whose max_attempts equals MAX_ATTEMPTS', async () => {
    const { logger, lines } = captureLogger();
    const result = await checkQueueDrift({ client, queue: path('too-small'), maxAttempts: 5, logger });
    expect(result).toEqual({ status: 'too-few-attempts', queue: path('too-small'), maxAttempts: 5, queueMaxAttempts: 5, effective: 5 });
    const errors = lines.filter((l) => l.severity === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'QUEUE_MAX_ATTEMPTS_TOO_LOW', maxAttempts: 5, queueMaxAttempts: 5 });
    expect(errors[0]!.message).toMatch(/max_attempts 5, not greater than MAX_ATTEMPTS=5/);
  });

  it('accepts unlimited queues and queues with a margin, silently', async () => {
    for (const [queue, effective] of [
      ['unlimited', 'unlimited'],
      ['margin', 15],
    ] as const) {
      const { logger, lines } = captureLogger();
      expect(await checkQueueDrift({ client, queue: path(queue), maxAttempts: 5, logger })).toMatchObject({ status: 'ok', effective });
      expect(lines.filter((l) => l.severity === 'ERROR' || l.severity === 'WARNING')).toEqual([]);
    }
  });

  it('warns without failing when the queue does not exist', async () => {
    const { logger, lines } = captureLogger();
    expect(await checkQueueDrift({ client, queue: path('missing'), maxAttempts: 5, logger })).toMatchObject({ status: 'unreadable', grpcCode: 5 });
    expect(lines.some((l) => l.severity === 'WARNING' && l.code === 'QUEUE_DRIFT_UNCHECKED')).toBe(true);
  });
});

describe('checkQueueDrift against queues reconfigured at runtime', () => {
  const queue = 'projects/drift-project/locations/us-central1/queues/tier-1';
  let emulated: EmulatedTasks;
  let client: CloudTasksClient;

  beforeAll(async () => {
    emulated = await startEmulatedTasks([]);
    client = emulated.client;
  });
  afterAll(async () => {
    await emulated.close();
  });

  it('logs an error naming both numbers when the queue gives up at the executor budget', async () => {
    await emulated.setQueue(queue, { maxAttempts: 5 });
    const { logger, lines } = captureLogger();
    const result = await checkQueueDrift({ client, queue, maxAttempts: 5, logger });
    expect(result).toEqual({ status: 'too-few-attempts', queue, maxAttempts: 5, queueMaxAttempts: 5, effective: 5 });
    const errors = lines.filter((l) => l.severity === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'QUEUE_MAX_ATTEMPTS_TOO_LOW', queue, maxAttempts: 5, queueMaxAttempts: 5 });
    expect(errors[0]!.message).toContain('max_attempts 5');
    expect(errors[0]!.message).toContain('MAX_ATTEMPTS=5');
    // It says what to do, with a command that names the queue.
    expect(errors[0]!.message).toContain('gcloud tasks queues update tier-1 --project=drift-project --location=us-central1 --max-attempts=15');
  });

  it('logs an error when the queue allows fewer attempts than the budget', async () => {
    await emulated.setQueue(queue, { maxAttempts: 3 });
    const { logger, lines } = captureLogger();
    const result = await checkQueueDrift({ client, queue, maxAttempts: 7, logger });
    expect(result.status).toBe('too-few-attempts');
    const error = lines.find((l) => l.severity === 'ERROR');
    expect(error?.message).toMatch(/max_attempts 3\b.*MAX_ATTEMPTS=7/);
  });

  it('accepts an unlimited queue without logging an error', async () => {
    await emulated.setQueue(queue, { maxAttempts: -1 });
    const { logger, lines } = captureLogger();
    const result = await checkQueueDrift({ client, queue, maxAttempts: 5, logger });
    expect(result).toEqual({ status: 'ok', queue, maxAttempts: 5, queueMaxAttempts: -1, effective: 'unlimited' });
    expect(lines.filter((l) => l.severity === 'ERROR' || l.severity === 'WARNING')).toEqual([]);
  });

  it('accepts a queue with more attempts than the budget', async () => {
    await emulated.setQueue(queue, { maxAttempts: 8 });
    const { logger, lines } = captureLogger();
    expect(await checkQueueDrift({ client, queue, maxAttempts: 5, logger })).toMatchObject({ status: 'ok', effective: 8 });
    expect(lines.filter((l) => l.severity === 'ERROR')).toEqual([]);
  });

  it('reads a queue without a retry config as the service default of 100 attempts', async () => {
    // Production fills the default in; a proxy or an older API version may not. A stub answers so.
    const client = { getQueue: async () => [{ name: queue }] } as unknown as CloudTasksClient;
    const low = captureLogger();
    expect(await checkQueueDrift({ client, queue, maxAttempts: 20, logger: low.logger })).toMatchObject({ status: 'ok', queueMaxAttempts: 0, effective: 100 });
    const high = captureLogger();
    expect(await checkQueueDrift({ client, queue, maxAttempts: 100, logger: high.logger })).toMatchObject({ status: 'too-few-attempts', effective: 100 });
    expect(high.lines.find((l) => l.severity === 'ERROR')?.message).toContain('max_attempts 0 (the default, 100)');
  });

  it('warns and carries on when the queue does not exist', async () => {
    const missing = 'projects/drift-project/locations/us-central1/queues/no-such-queue';
    const { logger, lines } = captureLogger();
    const result = await checkQueueDrift({ client, queue: missing, maxAttempts: 5, logger });
    expect(result).toMatchObject({ status: 'unreadable', queue: missing, maxAttempts: 5, grpcCode: 5 });
    const warning = lines.find((l) => l.severity === 'WARNING');
    expect(warning).toMatchObject({ code: 'QUEUE_DRIFT_UNCHECKED', queue: missing, grpcCode: 5 });
    expect(warning?.message).toContain('roles/cloudtasks.viewer');
    expect(lines.filter((l) => l.severity === 'ERROR')).toEqual([]);
  });

  it('warns instead of hanging or throwing when no server answers', async () => {
    // A client aimed at an emulator's port after it closed: the call fails (UNAVAILABLE or deadline).
    const gone = await startEmulator({ port: 0 });
    const host = gone.address;
    await gone.close();
    const unreachable = newEmulatorClient(host);
    try {
      const { logger, lines } = captureLogger();
      const result = await checkQueueDrift({ client: unreachable, queue, maxAttempts: 5, logger, timeoutMs: 1500 });
      expect(result.status).toBe('unreadable');
      expect(lines.some((l) => l.severity === 'WARNING' && l.code === 'QUEUE_DRIFT_UNCHECKED')).toBe(true);
    } finally {
      await unreachable.close();
    }
  });
});
