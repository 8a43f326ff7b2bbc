// Pins the REST surface as plain HTTP sees it (curl, firebase-admin): Google's JSON error body with
// the HTTP status of each code (cloud.google.com/apis/design/errors: INVALID_ARGUMENT 400,
// FAILED_PRECONDITION 400, PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS 409), REST field names, and the paths
// firebase-admin uses with CLOUD_TASKS_EMULATOR_HOST (the same resources without the /v2 prefix:
// `http://${emulatorHost}/projects/P/locations/L/queues/Q/tasks`).
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCATION_PATH, startHarness, type Harness } from './helpers/harness.js';
import { defined } from '../../helpers/defined.js';

interface GoogleError {
  error: { code: number; message: string; status: string };
}

async function call(
  h: Harness,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; json: unknown; contentType: string | undefined }> {
  const res = await request(h.emulator.url + path, defined({
    method,
    headers: body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  }));
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  const ct = res.headers['content-type'];
  return { status: res.statusCode, json, contentType: Array.isArray(ct) ? ct[0] : ct };
}

function expectGoogleError(res: { status: number; json: unknown; contentType: string | undefined }, http: number, status: string): void {
  expect(res.status).toBe(http);
  expect(res.contentType).toMatch(/application\/json/);
  const err = (res.json as GoogleError).error;
  expect(err).toMatchObject({ code: http, status });
  expect(typeof err.message).toBe('string');
  expect(err.message.length).toBeGreaterThan(0);
}

describe('REST over plain HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('rest');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates a queue and a task with the public REST field names, and dispatches the task', async () => {
    const q = `${LOCATION_PATH}/queues/curl-queue`;
    const created = await call(h, 'POST', `/v2/${LOCATION_PATH}/queues`, {
      name: q,
      retryConfig: { maxAttempts: 4, minBackoff: '0.100s', maxBackoff: '2s' },
      rateLimits: { maxDispatchesPerSecond: 50 },
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      name: q,
      state: 'RUNNING',
      retryConfig: { maxAttempts: 4, minBackoff: '0.100s', maxBackoff: '2s' },
      rateLimits: { maxDispatchesPerSecond: 50 },
    });

    const task = await call(h, 'POST', `/v2/${q}/tasks`, {
      task: {
        name: `${q}/tasks/curl-task`,
        httpRequest: { url: `${h.receiver.url}/curl`, httpMethod: 'POST', body: Buffer.from('from curl').toString('base64'), headers: { 'X-A': 'b' } },
      },
      responseView: 'FULL',
    });
    expect(task.status).toBe(200);
    const t = task.json as Record<string, unknown>;
    expect(t.name).toBe(`${q}/tasks/curl-task`);
    // Timestamps are RFC 3339 strings; counters are numbers; enums are names.
    expect(typeof t.scheduleTime).toBe('string');
    expect(Number.isNaN(Date.parse(t.scheduleTime as string))).toBe(false);
    expect(typeof t.createTime).toBe('string');
    expect(t.view).toBe('FULL');
    expect(t.httpRequest).toMatchObject({ url: `${h.receiver.url}/curl`, httpMethod: 'POST' });
    const [req] = await h.receiver.waitFor('/curl', 1);
    expect(req!.body.toString()).toBe('from curl');
    expect(req!.headers['x-a']).toBe('b');

    const got = await call(h, 'GET', `/v2/${q}`);
    expect(got.status).toBe(200);
    const pause = await call(h, 'POST', `/v2/${q}:pause`, {});
    expect(pause.json).toMatchObject({ state: 'PAUSED' });
    const resume = await call(h, 'POST', `/v2/${q}:resume`, {});
    expect(resume.json).toMatchObject({ state: 'RUNNING' });
    const purge = await call(h, 'POST', `/v2/${q}:purge`, {});
    expect(purge.status).toBe(200);
    const list = await call(h, 'GET', `/v2/${LOCATION_PATH}/queues?pageSize=100`);
    expect((list.json as { queues: Array<{ name: string }> }).queues.map((x) => x.name)).toContain(q);
  });

  it('answers the firebase-admin paths (no /v2 prefix) like the /v2 ones', async () => {
    const q = `${LOCATION_PATH}/queues/firebase-queue`;
    expect((await call(h, 'POST', `/${LOCATION_PATH}/queues`, { name: q })).status).toBe(200);
    // firebase-admin's TaskQueue.enqueue body: { task: { httpRequest: { url, oidcToken, body, headers }, name?, scheduleTime?, dispatchDeadline? } }
    const created = await call(h, 'POST', `/${q}/tasks`, {
      task: {
        name: `${q}/tasks/fb-1`,
        httpRequest: {
          url: `${h.receiver.url}/firebase`,
          oidcToken: { serviceAccountEmail: 'fb@local-project.iam.gserviceaccount.com' },
          body: Buffer.from(JSON.stringify({ data: { n: 1 } })).toString('base64'),
          headers: { 'Content-Type': 'application/json' },
        },
        dispatchDeadline: '300s',
      },
    });
    expect(created.status).toBe(200);
    const [req] = await h.receiver.waitFor('/firebase', 1);
    expect(JSON.parse(req!.body.toString())).toEqual({ data: { n: 1 } });
    expect(req!.headers.authorization).toMatch(/^Bearer /);
    await h.emulator.waitForIdle({ timeoutMs: 3000 });
    // firebase-admin deletes tasks by name and treats ALREADY_EXISTS on enqueue as a conflict.
    expectGoogleError(await call(h, 'DELETE', `/${q}/tasks/fb-1`), 404, 'NOT_FOUND');
    expectGoogleError(await call(h, 'POST', `/${q}/tasks`, { task: { name: `${q}/tasks/fb-1`, httpRequest: { url: `${h.receiver.url}/firebase` } } }), 409, 'ALREADY_EXISTS');
  });

  it('maps error codes to HTTP statuses with the Google error JSON', async () => {
    expectGoogleError(await call(h, 'GET', `/v2/${LOCATION_PATH}/queues/missing`), 404, 'NOT_FOUND');
    const q = `${LOCATION_PATH}/queues/errors-queue`;
    await call(h, 'POST', `/v2/${LOCATION_PATH}/queues`, { name: q });
    expectGoogleError(await call(h, 'POST', `/v2/${LOCATION_PATH}/queues`, { name: q }), 409, 'ALREADY_EXISTS');
    expectGoogleError(await call(h, 'POST', `/v2/${LOCATION_PATH}/queues`, { name: `${LOCATION_PATH}/queues/bad_id` }), 400, 'INVALID_ARGUMENT');
    expectGoogleError(
      await call(h, 'POST', `/v2/${LOCATION_PATH}/queues/missing/tasks`, { task: { httpRequest: { url: `${h.receiver.url}/x` } } }),
      404,
      'NOT_FOUND',
    );
    // The emulator's hint travels in the details, as a google.rpc.DebugInfo; the message is production's.
    const missing = await call(h, 'GET', `/v2/${LOCATION_PATH}/queues/missing`);
    expect((missing.json as { error: { details?: Array<Record<string, unknown>> } }).error.details).toContainEqual({
      '@type': 'type.googleapis.com/google.rpc.DebugInfo',
      detail: expect.stringMatching(/create it first/) as unknown,
    });
    expectGoogleError(
      await call(h, 'POST', `/v2/${q}/tasks`, { task: { httpRequest: { url: `${h.receiver.url}/x` }, dispatchDeadline: '5s' } }),
      400,
      'INVALID_ARGUMENT',
    );
  });

  it('answers a malformed body or an unknown field type with 400 INVALID_ARGUMENT and keeps serving', async () => {
    const q = `${LOCATION_PATH}/queues/malformed-queue`;
    await call(h, 'POST', `/v2/${LOCATION_PATH}/queues`, { name: q });
    expectGoogleError(await call(h, 'POST', `/v2/${q}/tasks`, undefined, '{"task": {'), 400, 'INVALID_ARGUMENT');
    expectGoogleError(await call(h, 'POST', `/v2/${q}/tasks`, undefined, '[1,2,3]'), 400, 'INVALID_ARGUMENT');
    expectGoogleError(await call(h, 'POST', `/v2/${q}/tasks`, { task: { httpRequest: { url: 42 } } }), 400, 'INVALID_ARGUMENT');
    expectGoogleError(await call(h, 'POST', `/v2/${q}/tasks`, { task: { scheduleTime: 'yesterday', httpRequest: { url: `${h.receiver.url}/x` } } }), 400, 'INVALID_ARGUMENT');
    expect((await call(h, 'GET', `/v2/${q}`)).status).toBe(200);
  });

  it('answers an unknown path with 404 in the Google error JSON', async () => {
    const res = await call(h, 'GET', '/v2/nothing/here');
    expect(res.status).toBe(404);
    expect((res.json as GoogleError).error.code).toBe(404);
  });
});
