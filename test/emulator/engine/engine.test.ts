import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/emulator/status.js';
import { pushRequest, type PushRequest, type PushResult } from '../../../src/emulator/dispatch.js';
import { Engine } from '../../../src/emulator/engine/engine.js';
import { OidcSigner } from '../../../src/emulator/oidc.js';
import { makeLogger } from '../../../src/log.js';

const PARENT = 'projects/p/locations/l';
const signer = new OidcSigner('http://issuer.test', 'http://issuer.test/.well-known/jwks.json');

/** An engine whose pushes are answered by `answer` (no network), recording every request. */
function makeEngine(
  answer: (req: PushRequest, n: number) => PushResult | Promise<PushResult>,
  opts: { dedupWindowMs?: number; resetNamesOnPurge?: boolean; queueNameReserveMs?: number } = {},
) {
  const pushes: PushRequest[] = [];
  const engine = new Engine({
    dedupWindowMs: opts.dedupWindowMs ?? 3_600_000,
    resetNamesOnPurge: opts.resetNamesOnPurge ?? false,
    queueNameReserveMs: opts.queueNameReserveMs ?? 0,
    appEngineHost: 'http://appengine.test',
    logger: makeLogger({ level: 'silent' }),
    push: async (delivery) => {
      const req = pushRequest(delivery, signer);
      pushes.push(req);
      return answer(req, pushes.length);
    },
  });
  engines.push(engine);
  return { engine, pushes };
}

const engines: Engine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

const ok: PushResult = { kind: 'response', status: 200 };
const fail = (status: number): PushResult => ({ kind: 'response', status });
const FAST = { minBackoffMs: 10, maxBackoffMs: 40, maxDoublings: 16 };

function queue(engine: Engine, id: string, retry: Record<string, number> = FAST, rate: Record<string, number> = {}): string {
  const name = `${PARENT}/queues/${id}`;
  engine.createQueue(PARENT, { name, retryConfig: retry, rateLimits: rate });
  return name;
}

function status(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof ApiError ? e.status : String(e);
  }
  return 'no error';
}

describe('Engine dispatch', () => {
  it('sends the X-CloudTasks headers and counts retries, executions, previous response and reason', async () => {
    const { engine, pushes } = makeEngine((_r, n) => (n === 1 ? fail(500) : n === 2 ? fail(409) : n === 3 ? { kind: 'timeout', message: 't' } : ok));
    const q = queue(engine, 'hdr');
    engine.createTask(q, { name: `${q}/tasks/t1`, http: { url: 'http://target.test/a?b=1', httpMethod: 'POST', headers: { 'X-Mine': '1', Host: 'evil' }, body: Buffer.from('x') } });
    await engine.waitForIdle(5000);
    expect(pushes).toHaveLength(4);
    const h = pushes.map((p) => p.headers);
    expect(h[0]).toMatchObject({ 'x-mine': '1', 'user-agent': 'Google-Cloud-Tasks', 'x-cloudtasks-queuename': 'hdr', 'x-cloudtasks-taskname': 't1', 'x-cloudtasks-taskretrycount': '0', 'x-cloudtasks-taskexecutioncount': '0' });
    expect(h[0]!.host).toBeUndefined();
    expect(h[0]!['content-type']).toBeUndefined();
    expect(h[0]!['x-cloudtasks-taskpreviousresponse']).toBeUndefined();
    expect(h[1]).toMatchObject({ 'x-cloudtasks-taskretrycount': '1', 'x-cloudtasks-taskexecutioncount': '0', 'x-cloudtasks-taskpreviousresponse': '500', 'x-cloudtasks-taskretryreason': 'HTTP status code 500' });
    expect(h[2]).toMatchObject({ 'x-cloudtasks-taskretrycount': '2', 'x-cloudtasks-taskexecutioncount': '1', 'x-cloudtasks-taskpreviousresponse': '409' });
    expect(h[3]).toMatchObject({ 'x-cloudtasks-taskretrycount': '3', 'x-cloudtasks-taskexecutioncount': '1', 'x-cloudtasks-taskretryreason': 'DEADLINE_EXCEEDED' });
    expect(h[3]!['x-cloudtasks-taskpreviousresponse']).toBeUndefined();
    expect(Number(h[0]!['x-cloudtasks-tasketa'])).toBeGreaterThan(1e9);
    expect(engine.stats()).toEqual({ created: 1, dispatched: 4, succeeded: 1, failedAttempts: 3, dropped: 0, deleted: 0 });
  });

  it('drops a task at maxAttempts and reports it with its last status', async () => {
    const { engine } = makeEngine(() => fail(503));
    const q = queue(engine, 'drop', { ...FAST, maxAttempts: 3 });
    const t = engine.createTask(q, { http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    await engine.waitForIdle(5000);
    expect(engine.droppedTasks()).toEqual([{ name: t.name, queue: q, dispatchCount: 3, lastStatus: 503 }]);
    expect(engine.stats().dropped).toBe(1);
    expect(status(() => engine.getTask(t.name))).toBe('NOT_FOUND');
  });

  it('signs an OIDC token for the audience, or the URL when none is given, and fakes OAuth tokens', async () => {
    const { engine, pushes } = makeEngine(() => ok);
    const q = queue(engine, 'auth');
    engine.createTask(q, { http: { url: 'http://target.test/x', httpMethod: 'POST', headers: {}, auth: { kind: 'oidc', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com' } } });
    engine.createTask(q, { http: { url: 'http://target.test/y', httpMethod: 'POST', headers: {}, auth: { kind: 'oauth', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com' } } });
    await engine.waitForIdle(5000);
    const [oidc, oauth] = pushes.map((p) => p.headers.authorization!);
    const payload = JSON.parse(Buffer.from(oidc!.split(' ')[1]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: 'http://issuer.test', aud: 'http://target.test/x', email: 'sa@p.iam.gserviceaccount.com', email_verified: true });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);
    expect(oauth).toMatch(/^Bearer emulator-fake-oauth-token\./);
  });

  it('never has more than maxConcurrentDispatches pushes in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const { engine } = makeEngine(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return ok;
    });
    const q = queue(engine, 'conc', FAST, { maxConcurrentDispatches: 3 });
    for (let i = 0; i < 20; i++) engine.createTask(q, { http: { url: 'http://target.test/', httpMethod: 'POST', headers: {} } });
    await engine.waitForIdle(5000);
    expect(peak).toBe(3);
  });

  it('holds tasks while paused, dispatches them on resume, and RunTask ignores the pause', async () => {
    const { engine, pushes } = makeEngine(() => ok);
    const q = queue(engine, 'pause');
    engine.pauseQueue(q);
    const a = engine.createTask(q, { http: { url: 'http://target.test/a', httpMethod: 'POST', headers: {} } });
    engine.createTask(q, { http: { url: 'http://target.test/b', httpMethod: 'POST', headers: {} } });
    await engine.waitForIdle(1000); // paused queues do not count as busy
    expect(pushes).toHaveLength(0);
    const ran = engine.runTask(a.name);
    expect(ran.dispatchCount).toBe(1);
    await engine.waitForIdle(1000);
    expect(pushes.map((p) => p.url)).toEqual(['http://target.test/a']);
    engine.resumeQueue(q);
    await engine.waitForIdle(1000);
    expect(pushes.map((p) => p.url)).toEqual(['http://target.test/a', 'http://target.test/b']);
  });

  it('reserves finished, deleted and purged names for the dedup window, and forgets them on purge when asked', async () => {
    const { engine } = makeEngine(() => ok, { dedupWindowMs: 60_000 });
    const q = queue(engine, 'dedup');
    const http = { url: 'http://target.test/', httpMethod: 'POST' as const, headers: {} };
    engine.createTask(q, { name: `${q}/tasks/done`, http });
    await engine.waitForIdle(1000);
    expect(status(() => engine.createTask(q, { name: `${q}/tasks/done`, http }))).toBe('ALREADY_EXISTS');
    engine.pauseQueue(q);
    engine.createTask(q, { name: `${q}/tasks/del`, http });
    engine.deleteTask(`${q}/tasks/del`);
    expect(status(() => engine.createTask(q, { name: `${q}/tasks/del`, http }))).toBe('ALREADY_EXISTS');
    expect(status(() => engine.getTask(`${q}/tasks/del`))).toBe('NOT_FOUND');

    const reset = makeEngine(() => ok, { resetNamesOnPurge: true }).engine;
    const q2 = queue(reset, 'dedup2');
    reset.pauseQueue(q2);
    reset.createTask(q2, { name: `${q2}/tasks/x`, http });
    reset.purgeQueue(q2);
    expect(() => reset.createTask(q2, { name: `${q2}/tasks/x`, http })).not.toThrow();
  });

  it('keeps later tasks when many future tasks are deleted (heap compaction)', async () => {
    const { engine, pushes } = makeEngine(() => ok);
    const q = queue(engine, 'compact');
    const http = { url: 'http://target.test/', httpMethod: 'POST' as const, headers: {} };
    const future = Date.now() + 3_600_000;
    const names = Array.from({ length: 3000 }, () => engine.createTask(q, { http, scheduleTimeMs: future }).name);
    for (const n of names) engine.deleteTask(n);
    engine.createTask(q, { http: { ...http, url: 'http://target.test/now' } });
    await engine.waitForIdle(2000);
    expect(pushes.map((p) => p.url)).toEqual(['http://target.test/now']);
    expect(engine.stats().deleted).toBe(3000);
  });

  it('validates tasks as production does', () => {
    const { engine } = makeEngine(() => ok);
    const q = queue(engine, 'validate');
    const http = { url: 'http://target.test/', httpMethod: 'POST' as const, headers: {} };
    expect(status(() => engine.createTask(`${PARENT}/queues/missing`, { http }))).toBe('NOT_FOUND');
    expect(status(() => engine.createTask(q, {}))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { appEngine: { httpMethod: 'GET', relativeUri: '/x', headers: {}, body: Buffer.from('x') } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { appEngine: { httpMethod: 'POST', relativeUri: 'no-slash', headers: {} } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http: { ...http, url: 'ftp://x/' } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http: { ...http, httpMethod: 'GET', body: Buffer.from('x') } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http: { ...http, body: Buffer.alloc(1024 * 1024 + 1) } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http, scheduleTimeMs: Date.now() + 31 * 86_400_000 }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http, dispatchDeadlineMs: 14_999 }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http, dispatchDeadlineMs: 1_800_001 }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { name: `${PARENT}/queues/other/tasks/t`, http }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createTask(q, { http: { ...http, headers: { 'bad header': 'x' } } }))).toBe('INVALID_ARGUMENT');
  });
});

describe('Engine queues', () => {
  it('applies production defaults and rejects limits above production maximums', () => {
    const { engine } = makeEngine(() => ok);
    const q = engine.createQueue(PARENT, { name: `${PARENT}/queues/d` });
    expect(q).toMatchObject({
      state: 'RUNNING',
      rateLimits: { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 },
      retryConfig: { maxAttempts: 100, minBackoffMs: 100, maxBackoffMs: 3_600_000, maxDoublings: 16, maxRetryDurationMs: 0 },
    });
    expect(status(() => engine.createQueue(PARENT, { name: `${PARENT}/queues/r`, rateLimits: { maxDispatchesPerSecond: 501 } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createQueue(PARENT, { name: `${PARENT}/queues/c`, rateLimits: { maxConcurrentDispatches: 5001 } }))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.createQueue(PARENT, { name: `${PARENT}/queues/d` }))).toBe('ALREADY_EXISTS');
    expect(status(() => engine.createQueue(PARENT, { name: 'projects/x/locations/l/queues/d' }))).toBe('INVALID_ARGUMENT');
  });

  it('updates only the masked fields, accepting snake_case paths, and recomputes the burst', () => {
    const { engine } = makeEngine(() => ok);
    const name = queue(engine, 'upd', { maxAttempts: 5 });
    const updated = engine.updateQueue({ name, rateLimits: { maxDispatchesPerSecond: 10, maxConcurrentDispatches: 7 }, retryConfig: { maxAttempts: 9 } }, [
      'rate_limits.max_dispatches_per_second',
    ]);
    expect(updated.rateLimits).toEqual({ maxDispatchesPerSecond: 10, maxBurstSize: 2, maxConcurrentDispatches: 1000 });
    expect(updated.retryConfig.maxAttempts).toBe(5);
    expect(status(() => engine.updateQueue({ name }, ['state']))).toBe('INVALID_ARGUMENT');
    // As in production, UpdateQueue creates a queue that does not exist.
    expect(engine.updateQueue({ name: `${PARENT}/queues/new`, retryConfig: { maxAttempts: 3 } }, undefined).retryConfig.maxAttempts).toBe(3);
    expect(engine.getQueue(`${PARENT}/queues/new`).state).toBe('RUNNING');
  });

  it('pages queues by name within their parent and filters by state', () => {
    const { engine } = makeEngine(() => ok);
    for (const id of ['c', 'a', 'b']) queue(engine, id);
    engine.createQueue('projects/p/locations/other', { name: 'projects/p/locations/other/queues/z' });
    engine.pauseQueue(`${PARENT}/queues/b`);
    const first = engine.listQueues(PARENT, 2);
    expect(first.items.map((q) => q.name.split('/').pop())).toEqual(['a', 'b']);
    const second = engine.listQueues(PARENT, 2, first.nextPageToken);
    expect(second.items.map((q) => q.name.split('/').pop())).toEqual(['c']);
    expect(second.nextPageToken).toBe('');
    expect(engine.listQueues(PARENT, 0, undefined, 'state: PAUSED').items).toHaveLength(1);
    expect(status(() => engine.listQueues(PARENT, 0, 'garbage'))).toBe('INVALID_ARGUMENT');
    expect(status(() => engine.listQueues(PARENT, -1))).toBe('INVALID_ARGUMENT');
  });

  it('pages tasks in creation order', () => {
    const { engine } = makeEngine(() => ok);
    const q = queue(engine, 'pages');
    engine.pauseQueue(q);
    const names = Array.from({ length: 5 }, () => engine.createTask(q, { http: { url: 'http://t.test/', httpMethod: 'POST', headers: {} } }).name);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = engine.listTasks(q, 2, token);
      seen.push(...page.items.map((t) => t.name));
      token = page.nextPageToken || undefined;
    } while (token);
    expect(seen).toEqual(names);
  });
});
