import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

const PARENT = 'projects/api-test/locations/us-central1';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    queues: { project: 'api-test', queues: [{ name: 'off', state: 'DISABLED' }, { name: 'held', state: 'PAUSED' }] },
  });
});
afterAll(async () => {
  await emulator.close();
});

function client(mode: 'grpc' | 'rest'): CloudTasksClient {
  const auth = new PassThroughClient() as unknown as NonNullable<NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>['authClient']>;
  return mode === 'grpc'
    ? new CloudTasksClient({ servicePath: '127.0.0.1', port: emulator.port, sslCreds: grpc.credentials.createInsecure(), authClient: auth })
    : new CloudTasksClient({ fallback: true, protocol: 'http', servicePath: '127.0.0.1', port: emulator.port, authClient: auth });
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${emulator.url}${path}`, body === undefined ? { method } : { method, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(['grpc', 'rest'] as const)('official client (%s)', (mode) => {
  it('updates only the fields named in the update mask', async () => {
    const c = client(mode);
    try {
      const name = `${PARENT}/queues/upd-${mode}`;
      await c.createQueue({ parent: PARENT, queue: { name, retryConfig: { maxAttempts: 7 } } });
      const [q] = await c.updateQueue({
        queue: { name, rateLimits: { maxDispatchesPerSecond: 20 }, retryConfig: { maxAttempts: 2 } },
        updateMask: { paths: ['rate_limits.max_dispatches_per_second'] },
      });
      expect(q.rateLimits).toMatchObject({ maxDispatchesPerSecond: 20, maxBurstSize: 4, maxConcurrentDispatches: 1000 });
      expect(q.retryConfig?.maxAttempts).toBe(7);
    } finally {
      await c.close();
    }
  });

  it('refuses tasks on a DISABLED queue from the queues file with FAILED_PRECONDITION', async () => {
    const c = client(mode);
    try {
      const err = (await c
        .createTask({ parent: `${PARENT}/queues/off`, task: { httpRequest: { url: 'http://127.0.0.1:9/x' } } })
        .catch((e: unknown) => e)) as { code?: number; message?: string };
      expect(String(err.message)).toMatch(/DISABLED/);
    } finally {
      await c.close();
    }
  });

  it('answers the IAM methods without enforcing them', async () => {
    const c = client(mode);
    try {
      const [perms] = await c.testIamPermissions({ resource: `${PARENT}/queues/held`, permissions: ['cloudtasks.tasks.create'] });
      expect(perms.permissions).toEqual(['cloudtasks.tasks.create']);
    } finally {
      await c.close();
    }
  });
});

describe('REST specifics', () => {
  it('filters ListQueues by state and returns enums as numbers when asked', async () => {
    const listed = await rest('GET', `/v2/${PARENT}/queues?filter=${encodeURIComponent('state: PAUSED')}`);
    expect((listed.json.queues as Array<{ name: string }>).map((q) => q.name)).toEqual([`${PARENT}/queues/held`]);
    const numeric = await rest('GET', `/v2/${PARENT}/queues/held?$alt=json;enum-encoding=int`);
    expect(numeric.json.state).toBe(2);
  });

  it('patches a queue with the update mask as a query parameter', async () => {
    const q = `${PARENT}/queues/patched`;
    expect((await rest('POST', `/v2/${PARENT}/queues`, { name: q })).status).toBe(200);
    const patched = await rest('PATCH', `/v2/${q}?updateMask=retryConfig.minBackoff,retryConfig.maxBackoff`, {
      retryConfig: { minBackoff: '0.5s', maxBackoff: '2s', maxAttempts: 3 },
    });
    expect(patched.json.retryConfig).toEqual({ maxAttempts: 100, minBackoff: '0.500s', maxBackoff: '2s', maxDoublings: 16 });
  });

  it('answers a body nested deeper than 100 levels with INVALID_ARGUMENT, never a 500', async () => {
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    for (const [method, path, text] of [
      ['POST', `/v2/${PARENT}/queues`, `{"name":"${PARENT}/queues/deep","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
      ['POST', `/v2/${PARENT}/queues/held/tasks`, `{"task":{"httpRequest":{"url":"http://127.0.0.1:9/"},"lastAttempt":${deep(20_000)}}}`],
      ['POST', `/v2/${PARENT}/queues/held/tasks`, `{"task":{"lastAttempt":${deep(100)}}}`],
    ] as const) {
      const res = await fetch(`${emulator.url}${path}`, { method, body: text });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringMatching(/deeper than 100 levels/) as unknown } });
    }
    // Brackets inside strings are text, not nesting.
    const created = await rest('POST', `/v2/${PARENT}/queues/held/tasks`, { task: { httpRequest: { url: 'http://127.0.0.1:9/', headers: { x: '['.repeat(500) } } } });
    expect(created.status).toBe(200);
  });

  it('answers an unknown verb and a wrong method with NOT_FOUND in the Google error JSON', async () => {
    expect(await rest('POST', `/v2/${PARENT}/queues/held:explode`, {})).toMatchObject({ status: 404, json: { error: { status: 'NOT_FOUND' } } });
    expect(await rest('PUT', `/v2/${PARENT}/queues/held`, {})).toMatchObject({ status: 404, json: { error: { status: 'NOT_FOUND' } } });
  });
});
