/** The emulator's GET /metrics: per-queue depth, dispatches by response class, retries and drops. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { responseClass } from '../../src/emulator/metrics.js';

const PARENT = 'projects/local-project/locations/us-central1';
let emulator: Emulator;
let receiver: Server;
let target: string;

beforeAll(async () => {
  // Always fails: each task is tried twice (one retry), then dropped.
  receiver = createServer((_req, res) => {
    res.statusCode = 500;
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/work`;
  emulator = await startEmulator({
    port: 0,
    queues: {
      queues: [
        { name: 'failing', retryConfig: { maxAttempts: 2, minBackoff: 0.1, maxBackoff: 0.1 } },
        { name: 'held', state: 'PAUSED' },
      ],
    },
  });
});
afterAll(async () => {
  await emulator.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

async function createTask(queue: string): Promise<void> {
  const res = await fetch(`${emulator.url}/v2/${PARENT}/queues/${queue}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { httpRequest: { url: target, httpMethod: 'POST' } } }),
  });
  expect(res.status).toBe(200);
}

const metrics = async () => {
  const res = await fetch(`${emulator.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

describe('emulator /metrics', () => {
  it('counts dispatches by response class, retries and dropped tasks per queue, and shows tasks waiting', async () => {
    await createTask('failing');
    await createTask('held');
    await createTask('held');
    await expect.poll(async () => (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { stats: { dropped: number } }).toMatchObject({ stats: { dropped: 1 } });
    const text = await metrics();
    expect(text).toContain('cloudtasks_emulator_dispatches_total{queue="failing",response="5xx"} 2');
    expect(text).toContain('cloudtasks_emulator_retries_total{queue="failing"} 1');
    expect(text).toContain('cloudtasks_emulator_dropped_tasks_total{queue="failing"} 1');
    expect(text).toContain('cloudtasks_emulator_tasks_waiting{queue="held"} 2');
    expect(text).toContain('cloudtasks_emulator_tasks_waiting{queue="failing"} 0');
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
  });

  it('leaves every other path to the API', async () => {
    expect((await fetch(`${emulator.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${emulator.url}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});

describe('responseClass', () => {
  it('labels a status by its class and a missing answer by why', () => {
    expect(responseClass({ kind: 'response', status: 204 })).toBe('2xx');
    expect(responseClass({ kind: 'response', status: 429 })).toBe('4xx');
    expect(responseClass({ kind: 'response', status: 503 })).toBe('5xx');
    expect(responseClass({ kind: 'timeout', message: 'x' })).toBe('timeout');
    expect(responseClass({ kind: 'unreachable', message: 'x' })).toBe('unreachable');
  });
});
