// Pins the request Cloud Tasks sends to an HTTP target: method, URL, headers and body as given, plus
// the X-CloudTasks-* headers and User-Agent, on the first attempt and on retries.
// Sources: Task/HttpRequest reference (cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2),
// "Create HTTP target handlers" (cloud.google.com/tasks/docs/creating-http-target-tasks — request
// headers), and firebase-functions' TaskContext, which documents the same headers:
// RetryCount "includes attempts where the task failed due to 5XX error codes and never reached the
// execution phase"; ExecutionCount "does not include failures due to 5XX error codes".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, toMs, type Harness } from './helpers/harness.js';
import { header, statuses, type Received } from './helpers/receiver.js';

const NOT_FOUND = 5;
const FAST_RETRY = { minBackoff: 0.05, maxBackoff: 0.2, maxAttempts: 10 };

function retryCount(r: Received): string | undefined {
  return header(r, 'X-CloudTasks-TaskRetryCount');
}
function executionCount(r: Received): string | undefined {
  return header(r, 'X-CloudTasks-TaskExecutionCount');
}

describe.each(MODES)('dispatch headers (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('delivers the method, URL, custom headers and body as given, with the Cloud Tasks headers on the first attempt', async () => {
    const queue = h.uniqueQueueId('hdr-first');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/first/${mode}`;
    await h.createTask(queue, {
      path: `${path}?a=1&b=two`,
      id: 'first-task_1',
      method: 'PUT',
      body: '{"hello":"world"}',
      headers: { 'Content-Type': 'application/json', 'X-Custom-Thing': 'kept' },
    });
    const [req] = await h.receiver.waitFor(path, 1);
    expect(req!.method).toBe('PUT');
    expect(req!.path).toBe(`${path}?a=1&b=two`);
    expect(req!.body.toString()).toBe('{"hello":"world"}');
    expect(header(req!, 'content-type')).toBe('application/json');
    expect(header(req!, 'x-custom-thing')).toBe('kept');
    expect(header(req!, 'user-agent')).toBe('Google-Cloud-Tasks');
    // Queue and task names are the short ids, not the full resource names.
    expect(header(req!, 'X-CloudTasks-QueueName')).toBe(queue);
    expect(header(req!, 'X-CloudTasks-TaskName')).toBe('first-task_1');
    expect(retryCount(req!)).toBe('0');
    expect(executionCount(req!)).toBe('0');
  });

  it('invents no Content-Type for a body without one (target.proto: "Content-Type won\'t be set by Cloud Tasks")', async () => {
    const queue = h.uniqueQueueId('hdr-no-ct');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/no-content-type/${mode}`;
    await h.createTask(queue, { path, body: 'raw bytes' });
    const [req] = await h.receiver.waitFor(path, 1);
    expect(req!.body.toString()).toBe('raw bytes');
    expect(header(req!, 'content-type')).toBeUndefined();
  });

  it("replaces the task's User-Agent with Google-Cloud-Tasks, on the wire and on the stored task", async () => {
    // target.proto: "User-Agent: This will be set to "Google-Cloud-Tasks""; the stored headers are the
    // task's own, key case kept, plus User-Agent (conformance/golden/headers.json, headers/http*).
    const queue = h.uniqueQueueId('hdr-ua');
    await h.createQueue(queue, { retry: FAST_RETRY });
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const path = `/user-agent/${mode}`;
    const created = await h.createTask(queue, { path, headers: { 'User-Agent': 'my-client/1.0', 'X-Mixed-Case': 'preserve-me', 'content-type': 'application/json' } });
    const expected = { 'User-Agent': 'Google-Cloud-Tasks', 'X-Mixed-Case': 'preserve-me', 'content-type': 'application/json' };
    expect(created.httpRequest?.headers).toEqual(expected);
    const [got] = await h.client.getTask({ name: created.name!, responseView: 'FULL' });
    expect(got.httpRequest?.headers).toEqual(expected);
    await h.client.resumeQueue({ name: h.queuePath(queue) });
    const [req] = await h.receiver.waitFor(path, 1);
    expect(header(req!, 'user-agent')).toBe('Google-Cloud-Tasks');
    expect(header(req!, 'x-mixed-case')).toBe('preserve-me');
  });

  it('sends X-CloudTasks-TaskETA as fractional epoch seconds of the schedule time', async () => {
    const queue = h.uniqueQueueId('hdr-eta');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/eta/${mode}`;
    const scheduleTime = new Date(Date.now() + 700);
    const task = await h.createTask(queue, { path, scheduleTime });
    const [req] = await h.receiver.waitFor(path, 1);
    const eta = header(req!, 'X-CloudTasks-TaskETA');
    expect(eta).toMatch(/^\d+(\.\d+)?$/);
    const etaMs = Number(eta) * 1000;
    expect(Math.abs(etaMs - toMs(task.scheduleTime)!)).toBeLessThan(5);
    expect(Math.abs(etaMs - scheduleTime.getTime())).toBeLessThan(5);
    // Never dispatched before its schedule time.
    expect(req!.wallAt).toBeGreaterThanOrEqual(scheduleTime.getTime() - 20);
  });

  it('counts every dispatch in RetryCount but only non-5xx responses in ExecutionCount, with PreviousResponse and RetryReason on retries after a 500 and a 409', async () => {
    const queue = h.uniqueQueueId('hdr-retry');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/retry/${mode}`;
    h.receiver.on(path, statuses(500, 409, 500, 200));
    await h.createTask(queue, { path, id: 'retried', body: 'same body every time' });
    const reqs = await h.receiver.waitFor(path, 4);

    expect(reqs.map(retryCount)).toEqual(['0', '1', '2', '3']);
    // The 500s are not executions; the 409 is (the handler answered).
    expect(reqs.map(executionCount)).toEqual(['0', '0', '1', '1']);
    expect(reqs.slice(1).map((r) => header(r, 'X-CloudTasks-TaskPreviousResponse'))).toEqual(['500', '409', '500']);
    for (const r of reqs.slice(1)) {
      expect(header(r, 'X-CloudTasks-TaskRetryReason')).toBeTruthy();
    }
    for (const r of reqs) {
      expect(header(r, 'user-agent')).toBe('Google-Cloud-Tasks');
      expect(header(r, 'X-CloudTasks-QueueName')).toBe(queue);
      expect(header(r, 'X-CloudTasks-TaskName')).toBe('retried');
      expect(r.body.toString()).toBe('same body every time');
      expect(r.method).toBe('POST');
    }
    // Each retry's ETA is its own (later) schedule time, never after its arrival.
    const etas = reqs.map((r) => Number(header(r, 'X-CloudTasks-TaskETA')) * 1000);
    for (let i = 1; i < etas.length; i++) {
      expect(etas[i]!).toBeGreaterThan(etas[i - 1]!);
      expect(etas[i]!).toBeLessThanOrEqual(reqs[i]!.wallAt + 50);
    }
  });

  it('counts a dropped connection (no response) in RetryCount but not in ExecutionCount', async () => {
    const queue = h.uniqueQueueId('hdr-drop');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/drop/${mode}`;
    h.receiver.on(path, (i) => (i === 0 ? { destroy: true } : { status: 200 }));
    await h.createTask(queue, { path });
    const reqs = await h.receiver.waitFor(path, 2);
    expect(reqs.map(retryCount)).toEqual(['0', '1']);
    expect(reqs.map(executionCount)).toEqual(['0', '0']);
    expect(header(reqs[1]!, 'X-CloudTasks-TaskRetryReason')).toBeTruthy();
  });

  it('deletes the task once the target answers 2xx', async () => {
    const queue = h.uniqueQueueId('hdr-done');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/done/${mode}`;
    h.receiver.on(path, statuses(204));
    const task = await h.createTask(queue, { path, id: 'done-once' });
    await h.receiver.waitFor(path, 1);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
    expect(h.receiver.at(path)).toHaveLength(1);
  });
});
