// Pins how a push follows redirects. target.proto (HttpRequest.url): "The Location header response
// from a redirect response [300 - 399] may be followed. The redirect is not counted as a separate
// attempt." The emulator follows up to 10 hops with the task's method, headers and body, within the
// one dispatch deadline; past that the 3xx is the attempt's answer (a failure, retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, type Harness } from './helpers/harness.js';
import { header } from './helpers/receiver.js';

const NOT_FOUND = 5;
const FAST_RETRY = { minBackoff: 0.05, maxBackoff: 0.1, maxAttempts: 2 };

describe.each(MODES)('redirects (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('follows relative and absolute Locations with the same method, headers and body, as one attempt', async () => {
    const queue = h.uniqueQueueId('redirect');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const base = `/redirect/${mode}`;
    h.receiver.on(`${base}/a`, () => ({ status: 307, headers: { location: `${base}/b?step=2` } }));
    h.receiver.on(`${base}/b`, () => ({ status: 302, headers: { location: `${h.receiver.url}${base}/c` } }));
    const before = h.emulator.stats().dispatched;
    const task = await h.createTask(queue, { path: `${base}/a`, method: 'PUT', body: 'payload', headers: { 'X-Own': 'kept' } });
    const [final] = await h.receiver.waitFor(`${base}/c`, 1);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    const hops = [...h.receiver.at(`${base}/a`), ...h.receiver.at(`${base}/b`), final!];
    expect(hops.map((r) => r.method)).toEqual(['PUT', 'PUT', 'PUT']);
    expect(hops.map((r) => r.body.toString())).toEqual(['payload', 'payload', 'payload']);
    expect(hops.map((r) => header(r, 'x-own'))).toEqual(['kept', 'kept', 'kept']);
    expect(h.receiver.at(`${base}/b`)[0]!.path).toBe(`${base}/b?step=2`);
    // One attempt: no retry headers on any hop, one dispatch counted, and the 200 at the end completed the task.
    expect(hops.map((r) => header(r, 'X-CloudTasks-TaskRetryCount'))).toEqual(['0', '0', '0']);
    expect(h.emulator.stats().dispatched - before).toBe(1);
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
  });

  it('stops following after 10 hops and counts the attempt as failed', async () => {
    const queue = h.uniqueQueueId('redirect-loop');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const path = `/redirect-loop/${mode}`;
    h.receiver.on(path, () => ({ status: 302, headers: { location: path } }));
    await h.createTask(queue, { path });
    // First attempt: the request and 10 redirects; second attempt: the same again.
    const got = await h.receiver.waitFor(path, 22);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    expect(got.slice(0, 11).map((r) => header(r, 'X-CloudTasks-TaskRetryCount'))).toEqual(Array(11).fill('0'));
    expect(header(got[11]!, 'X-CloudTasks-TaskRetryCount')).toBe('1');
    expect(header(got[11]!, 'X-CloudTasks-TaskPreviousResponse')).toBe('302');
    expect(h.emulator.droppedTasks().find((d) => d.queue === h.queuePath(queue))).toMatchObject({ dispatchCount: 2, lastStatus: 302 });
  });
});
