// Pins App Engine targets, which Google's App Engine samples use (nodejs-docs-samples,
// cloud-tasks/snippets createTask.js: appEngineHttpRequest { httpMethod: 'POST', relativeUri:
// '/log_payload', body: base64 }). The emulator pushes them to a configured local host
// (--app-engine-host / appEngineHost, or a queue's appEngineHost in the queues file) with the
// headers production sends. Sources: target.proto (AppEngineHttpRequest: User-Agent "AppEngine-Google;
// (+http://code.google.com/appengine)", appended to the task's own; with a body, Content-Type
// defaults to application/octet-stream and Content-Length is computed; a body needs POST or PUT;
// the queue's app_engine_routing_override wins over the task's routing; a 429 does not throttle the
// queue) and production recordings (aertje/cloud-tasks-emulator conformance/golden/headers.json for
// the stored headers, golden/dispatch.json for the X-AppEngine-* headers on the first attempt and
// on retries: ExecutionCount counts every earlier answer, RetryReason "App Error").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, LOCATION_PATH, PROJECT, startHarness, type Harness } from './helpers/harness.js';
import { header, statuses } from './helpers/receiver.js';

const INVALID_ARGUMENT = 3;
const AE_USER_AGENT = 'AppEngine-Google; (+http://code.google.com/appengine)';
const FAST_RETRY = { minBackoff: 0.05, maxBackoff: 0.2, maxAttempts: 10 };

describe.each(MODES)('App Engine targets (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode, (receiver) => ({ appEngineHost: receiver.url }));
  });
  afterAll(async () => {
    await h?.close();
  });

  it("runs Google's App Engine sample: the task reaches the app's handler with the X-AppEngine headers", async () => {
    const queue = h.uniqueQueueId('ae-sample');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/log_payload/${mode}`;
    const [task] = await h.client.createTask({
      parent: h.queuePath(queue),
      task: { appEngineHttpRequest: { httpMethod: 'POST', relativeUri: `${path}?x=1`, body: Buffer.from('Hello, World!').toString('base64') } },
    });
    expect(task.appEngineHttpRequest?.relativeUri).toBe(`${path}?x=1`);
    expect(task.appEngineHttpRequest?.appEngineRouting?.host).toBe(`${PROJECT}.appspot.com`);
    const [req] = await h.receiver.waitFor(path, 1);
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(`${path}?x=1`);
    expect(req!.body.toString()).toBe('Hello, World!');
    expect(header(req!, 'content-type')).toBe('application/octet-stream');
    expect(header(req!, 'user-agent')).toBe(AE_USER_AGENT);
    expect(header(req!, 'X-AppEngine-QueueName')).toBe(queue);
    expect(header(req!, 'X-AppEngine-TaskName')).toBe(task.name!.split('/').pop());
    expect(header(req!, 'X-AppEngine-TaskRetryCount')).toBe('0');
    expect(header(req!, 'X-AppEngine-TaskExecutionCount')).toBe('0');
    expect(Number(header(req!, 'X-AppEngine-TaskETA'))).toBeGreaterThan(1e9);
    expect(header(req!, 'X-CloudTasks-TaskName')).toBeUndefined();
  });

  it('stores the headers as production does: own headers kept, User-Agent appended, Content-Type and Content-Length with a body', async () => {
    const queue = h.uniqueQueueId('ae-stored');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const body = Buffer.from('{"n":1234567890}\n');
    const [withType] = await h.client.createTask({
      parent: h.queuePath(queue),
      task: { appEngineHttpRequest: { relativeUri: '/x', headers: { 'X-Mixed-Case': 'preserve-me', 'content-type': 'application/json' }, body } },
      responseView: 'FULL',
    });
    expect(withType.appEngineHttpRequest?.headers).toEqual({
      'Content-Length': '17',
      'User-Agent': AE_USER_AGENT,
      'X-Mixed-Case': 'preserve-me',
      'content-type': 'application/json',
    });
    const [noType] = await h.client.createTask({
      parent: h.queuePath(queue),
      task: { appEngineHttpRequest: { relativeUri: '/x', headers: { 'X-Mixed-Case': 'preserve-me', 'User-Agent': 'mine/1' }, body } },
    });
    expect(noType.appEngineHttpRequest?.headers).toEqual({
      'Content-Length': '17',
      'Content-Type': 'application/octet-stream',
      'User-Agent': `mine/1 ${AE_USER_AGENT}`,
      'X-Mixed-Case': 'preserve-me',
    });
    await h.client.purgeQueue({ name: h.queuePath(queue) });
  });

  it('sends the retry headers production sends: execution count of every answer, previous response, "App Error"', async () => {
    const queue = h.uniqueQueueId('ae-retry');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/ae-retry/${mode}`;
    h.receiver.on(path, statuses(503, 404));
    await h.client.createTask({ parent: h.queuePath(queue), task: { appEngineHttpRequest: { relativeUri: path } } });
    const got = await h.receiver.waitFor(path, 3);
    expect(got.map((r) => header(r, 'X-AppEngine-TaskRetryCount'))).toEqual(['0', '1', '2']);
    expect(got.map((r) => header(r, 'X-AppEngine-TaskExecutionCount'))).toEqual(['0', '1', '2']);
    expect(got.map((r) => header(r, 'X-AppEngine-TaskPreviousResponse'))).toEqual([undefined, '503', '404']);
    expect(got.map((r) => header(r, 'X-AppEngine-TaskRetryReason'))).toEqual([undefined, 'App Error', 'App Error']);
  });

  it("routes by the queue's appEngineRoutingOverride, which wins over the task's routing", async () => {
    const queue = h.uniqueQueueId('ae-override');
    const [created] = await h.client.createQueue({
      parent: LOCATION_PATH,
      queue: { name: h.queuePath(queue), appEngineRoutingOverride: { service: 'worker', version: 'v2' } },
    });
    expect(created.appEngineRoutingOverride).toMatchObject({ service: 'worker', version: 'v2', host: `v2.worker.${PROJECT}.appspot.com` });
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const [task] = await h.client.createTask({
      parent: h.queuePath(queue),
      task: { appEngineHttpRequest: { relativeUri: '/x', appEngineRouting: { service: 'other' } } },
    });
    expect(task.appEngineHttpRequest?.appEngineRouting).toMatchObject({ service: 'worker', version: 'v2', host: `v2.worker.${PROJECT}.appspot.com` });
    // Without an override, the task's own routing is used.
    const plain = h.uniqueQueueId('ae-routing');
    await h.createQueue(plain);
    await h.client.pauseQueue({ name: h.queuePath(plain) });
    const [own] = await h.client.createTask({
      parent: h.queuePath(plain),
      task: { appEngineHttpRequest: { relativeUri: '/x', appEngineRouting: { service: 'other' } } },
    });
    expect(own.appEngineHttpRequest?.appEngineRouting).toMatchObject({ service: 'other', host: `other.${PROJECT}.appspot.com` });
    // UpdateQueue can clear the override with its mask.
    const [cleared] = await h.client.updateQueue({ queue: { name: h.queuePath(queue) }, updateMask: { paths: ['app_engine_routing_override'] } });
    expect(cleared.appEngineRoutingOverride ?? null).toBeNull();
  });

  it("sends a queue's App Engine tasks to the host its queues-file entry names", async () => {
    const other = await startHarness(mode, (receiver) => ({
      appEngineHost: 'http://127.0.0.1:9', // nothing listens there: the queue's own host must win
      queues: { queues: [{ name: 'ae-file', appEngineHost: receiver.url, retryConfig: { minBackoff: '0.05s' } }] },
    }));
    try {
      await other.client.createTask({ parent: other.queuePath('ae-file'), task: { appEngineHttpRequest: { relativeUri: '/from-file' } } });
      const [req] = await other.receiver.waitFor('/from-file', 1);
      expect(header(req!, 'X-AppEngine-QueueName')).toBe('ae-file');
    } finally {
      await other.close();
    }
  });

  it('validates App Engine requests as target.proto says', async () => {
    const queue = h.uniqueQueueId('ae-invalid');
    await h.createQueue(queue);
    const create = (appEngineHttpRequest: Record<string, unknown>) => () => h.client.createTask({ parent: h.queuePath(queue), task: { appEngineHttpRequest } });
    expect(await errorCode(create({ relativeUri: 'no-leading-slash' }))).toBe(INVALID_ARGUMENT);
    expect(await errorCode(create({ relativeUri: '/has space' }))).toBe(INVALID_ARGUMENT);
    // "A request body is allowed only if the HTTP method is POST or PUT" (PATCH is fine for HTTP targets).
    expect(await errorCode(create({ relativeUri: '/x', httpMethod: 'PATCH', body: Buffer.from('x') }))).toBe(INVALID_ARGUMENT);
    await expect(h.client.createTask({ parent: h.queuePath(queue), task: { appEngineHttpRequest: { relativeUri: '/x', httpMethod: 'PUT', body: Buffer.from('x') } } })).resolves.toBeTruthy();
    // An empty relative URI is "/".
    const [root] = await h.client.createTask({ parent: h.queuePath(queue), task: { appEngineHttpRequest: {} } });
    expect(root.appEngineHttpRequest?.relativeUri).toBe('/');
  });
});
