// Pins the in-process API tests rely on: address/url/jwksUrl, stats(), droppedTasks(), waitForIdle().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { startEmulator } from '../../../src/emulator/index.js';
import { shortId, startHarness, type Harness } from './helpers/harness.js';
import { statuses } from './helpers/receiver.js';

describe('in-process emulator API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('grpc');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('reports where it listens', () => {
    const { emulator } = h;
    expect(emulator.host).toBe('127.0.0.1');
    expect(emulator.port).toBeGreaterThan(0);
    expect(emulator.address).toBe(`127.0.0.1:${emulator.port}`);
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    expect(emulator.issuer).toBe(emulator.url);
    expect(emulator.jwksUrl.startsWith(emulator.url)).toBe(true);
  });

  it('counts created tasks, dispatches, successes, failed attempts and drops', async () => {
    const before = h.emulator.stats();
    const queue = h.uniqueQueueId('stats');
    await h.createQueue(queue, { retry: { maxAttempts: 2, minBackoff: 0.02, maxBackoff: 0.02 } });
    h.receiver.on('/stats-ok', statuses(500, 200));
    h.receiver.on('/stats-drop', () => ({ status: 404 }));
    await h.createTask(queue, { path: '/stats-ok' });
    await h.createTask(queue, { path: '/stats-drop', id: 'dropped-one' });
    await h.receiver.waitFor('/stats-ok', 2);
    await h.receiver.waitFor('/stats-drop', 2);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    const after = h.emulator.stats();
    expect(after.created - before.created).toBe(2);
    expect(after.dispatched - before.dispatched).toBe(4);
    expect(after.succeeded - before.succeeded).toBe(1);
    expect(after.failedAttempts - before.failedAttempts).toBe(3);
    expect(after.dropped - before.dropped).toBe(1);
    const dropped = h.emulator.droppedTasks().find((t) => shortId(t.name) === 'dropped-one');
    expect(dropped).toMatchObject({ dispatchCount: 2, lastStatus: 404 });
    expect(shortId(dropped!.queue)).toBe(queue);
  });

  it('waitForIdle rejects after its timeout while a task keeps being retried', async () => {
    const queue = h.uniqueQueueId('never-idle');
    await h.createQueue(queue, { retry: { maxAttempts: -1, minBackoff: 0.05, maxBackoff: 0.05 } });
    h.receiver.on('/never-idle', () => ({ status: 500 }));
    const task = await h.createTask(queue, { path: '/never-idle' });
    await expect(h.emulator.waitForIdle({ timeoutMs: 300 })).rejects.toThrow();
    await h.client.deleteTask({ name: task.name! });
    await h.emulator.waitForIdle({ timeoutMs: 3000 });
  });

  it('refuses an appEngineHost that is not an http(s) origin, before listening', async () => {
    const err = await startEmulator({ appEngineHost: 'localhost:8080' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join()).toMatch(/appEngineHost must be an http\(s\) origin/);
  });
});
