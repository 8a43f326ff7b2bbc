import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhook, type Webhook } from '../../src/local/webhook.js';
import { decodeNotification } from '../../src/local/notification.js';
import { Tally } from '../../src/local/tally.js';
import { JobNotifications } from '../../src/local/job-notifications.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/work.proto', import.meta.url)));
const SvcWorkResponse = root.lookupType('morais_protos.SvcWorkResponse');

function binaryResponse(id: string, error?: { type: string; message: string }): Buffer {
  return Buffer.from(SvcWorkResponse.encode(SvcWorkResponse.fromObject({ context: { id }, ...(error ? { error } : {}) })).finish());
}

describe('decodeNotification', () => {
  it('reads a binary SvcWorkResponse without error as a success of its context id', () => {
    expect(decodeNotification(binaryResponse('job-1'))).toEqual({ format: 'proto-binary', jobId: 'job-1', outcome: 'succeeded' });
  });

  it('reads a binary SvcWorkResponse with an error as a failure carrying the error', () => {
    const n = decodeNotification(binaryResponse('job-2', { type: 'Error', message: 'invalid source file' }));
    expect(n).toMatchObject({ format: 'proto-binary', jobId: 'job-2', outcome: 'failed', error: { type: 'Error', message: 'invalid source file' } });
  });

  it('reads the proto3 JSON mapping of SvcWorkResponse', () => {
    const ok = decodeNotification(Buffer.from(JSON.stringify({ context: { id: 'j3' } })));
    expect(ok).toEqual({ format: 'proto-json', jobId: 'j3', outcome: 'succeeded' });
    const failed = decodeNotification(Buffer.from(JSON.stringify({ context: { id: 'j4' }, error: { type: 'Error', message: 'boom' } })));
    expect(failed).toMatchObject({ format: 'proto-json', jobId: 'j4', outcome: 'failed' });
  });

  it('reads an empty body as a success without a job id (proto3 omits empty messages)', () => {
    expect(decodeNotification(Buffer.alloc(0))).toEqual({ format: 'proto-binary', outcome: 'succeeded' });
  });

  it('rejects garbage with WEBHOOK_UNDECODABLE', () => {
    expect(() => decodeNotification(Buffer.from([0xff, 0xff, 0xff, 0x01]))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
    expect(() => decodeNotification(Buffer.from('{not json'))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
  });
});

describe('webhook receiver', () => {
  let webhook: Webhook;
  beforeEach(async () => {
    webhook = await startWebhook({ port: 0 });
  });
  afterEach(async () => {
    await webhook.close();
  });

  const post = (path: string, body: Buffer, contentType = 'application/octet-stream') =>
    fetch(`${webhook.url}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType } });

  it('counts outcomes per job and answers 200 to each notification', async () => {
    expect((await post('/notify', binaryResponse('a'))).status).toBe(200);
    expect((await post('/notify', binaryResponse('b', { type: 'Error', message: 'x' }))).status).toBe(200);
    expect((await post('/notify', Buffer.from(JSON.stringify({ context: { id: 'c' } })), 'application/json')).status).toBe(200);
    expect(webhook.tally.snapshot()).toMatchObject({ notifications: 3, succeeded: 2, failed: 1, duplicates: 0 });
    expect(webhook.tally.job('b')?.outcomes).toEqual(['failed']);
  });

  it('detects a second notification for the same job as a duplicate', async () => {
    await post('/notify', binaryResponse('dup'));
    await post('/notify', binaryResponse('dup'));
    expect(webhook.tally.snapshot()).toMatchObject({ notifications: 2, succeeded: 1, duplicates: 1 });
    const r = webhook.tally.reconcile(new Map([['dup', 'succeeded'], ['gone', 'failed']]));
    expect(r).toMatchObject({ jobs: 2, succeeded: 1, lost: 1, duplicates: 1, wrongOutcome: 0, lostSample: ['gone'] });
  });

  it('answers 400 to an undecodable body and counts it, so the notifier queue keeps it', async () => {
    const res = await post('/notify', Buffer.from([0xff, 0xff, 0xff, 0x01]));
    expect(res.status).toBe(400);
    expect(webhook.tally.snapshot()).toMatchObject({ notifications: 0, undecodable: 1 });
  });

  it('counts dead-letter deliveries separately from notifications', async () => {
    expect((await post('/dead-letter', Buffer.from('raw bytes'))).status).toBe(200);
    expect(webhook.tally.snapshot()).toMatchObject({ notifications: 0, deadLetters: 1 });
  });

  it('serves its counts on GET /stats and 200 on GET /health', async () => {
    await post('/notify', binaryResponse('s1'));
    const stats = (await (await fetch(`${webhook.url}/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ notifications: 1, succeeded: 1, jobs: 1 });
    expect((await fetch(`${webhook.url}/health`)).status).toBe(200);
  });

  it('serves its last notifications with their bodies on GET /notifications, newest first', async () => {
    await post('/notify', binaryResponse('n1', { type: 'Error', message: 'boom' }));
    await post('/notify', Buffer.from(JSON.stringify({ context: { id: 'n2' } })), 'application/json');
    const { notifications } = (await (await fetch(`${webhook.url}/notifications`)).json()) as { notifications: Array<Record<string, unknown>> };
    expect(notifications.map((n) => [n.jobId, n.outcome, n.format])).toEqual([
      ['n2', 'succeeded', 'proto-json'],
      ['n1', 'failed', 'proto-binary'],
    ]);
    expect(notifications[1]).toMatchObject({ error: 'Error: boom' });
    expect(JSON.parse(String(notifications[1]!.body))).toEqual({ context: { id: 'n1' }, error: { type: 'Error', message: 'boom' } });
    expect(JSON.parse(String(notifications[0]!.body))).toEqual({ context: { id: 'n2' } });
  });

  it('answers by job id with the first notification of each, a duplicate count, and the ids still pending', async () => {
    await post('/notify', binaryResponse('x', { type: 'Error', message: 'boom' }));
    await post('/notify', binaryResponse('x'));
    const r = await fetch(`${webhook.url}/notifications?jobId=x&jobId=y`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { notifications: Array<Record<string, unknown>>; pending: string[] };
    expect(body.pending).toEqual(['y']);
    expect(body.notifications).toEqual([expect.objectContaining({ jobId: 'x', outcome: 'failed', error: 'Error: boom', notifications: 2 })]);
  });

  it('holds a job query with wait until one of the jobs is notified', async () => {
    const answer = fetch(`${webhook.url}/notifications?jobId=later&wait=30`).then((r) => r.json() as Promise<{ notifications: Array<{ jobId: string }>; pending: string[] }>);
    // Not notified yet: the request is parked, so it must still be pending after a round trip of another request.
    expect((await (await fetch(`${webhook.url}/notifications?jobId=later`)).json()) as { pending: string[] }).toMatchObject({ pending: ['later'] });
    await post('/notify', binaryResponse('later'));
    expect(await answer).toEqual({ notifications: [expect.objectContaining({ jobId: 'later', outcome: 'succeeded' })], pending: [] });
  });

  it('ends a parked wait when the webhook closes, and refuses a bad job query with 400', async () => {
    expect((await fetch(`${webhook.url}/notifications?wait=5`)).status).toBe(400);
    expect((await fetch(`${webhook.url}/notifications?jobId=a&wait=600`)).status).toBe(400);
    expect((await fetch(`${webhook.url}/notifications?jobId=`)).status).toBe(400);
    const parked = fetch(`${webhook.url}/notifications?jobId=never&wait=60`).then(
      () => 'answered',
      () => 'connection closed',
    );
    await fetch(`${webhook.url}/health`);
    await webhook.close();
    expect(['answered', 'connection closed']).toContain(await parked);
    webhook = await startWebhook({ port: 0 });
  });

  it('keeps only the last 50 notifications', async () => {
    for (let i = 0; i < 55; i++) await post('/notify', binaryResponse(`k${i}`));
    expect(webhook.recent.list()).toHaveLength(50);
    expect(webhook.recent.list()[0]!.jobId).toBe('k54');
  });
});

describe('tally reconciliation', () => {
  it('flags a job notified by another tier than expected, when the notification names its tier', () => {
    const tally = new Tally();
    tally.record({ jobId: 'v', outcome: 'succeeded', tier: 1 });
    tally.record({ jobId: 'i', outcome: 'failed', tier: 1 });
    tally.record({ jobId: 'b', outcome: 'failed' });
    const r = tally.reconcile(
      new Map([
        ['v', 'succeeded'],
        ['i', 'failed'],
        ['b', 'failed'],
      ]),
      (o) => (o === 'succeeded' ? 1 : 2),
    );
    expect(r).toMatchObject({ jobs: 3, wrongOutcome: 0, wrongTier: 1, wrongSample: ['i'] });
  });

  it('flags a job whose outcome differs from the expected one', async () => {
    const webhook = await startWebhook();
    try {
      await fetch(`${webhook.url}/notify`, { method: 'POST', body: new Uint8Array(binaryResponse('should-fail')) });
      const r = webhook.tally.reconcile(new Map([['should-fail', 'failed']]));
      expect(r).toMatchObject({ jobs: 1, succeeded: 1, wrongOutcome: 1, wrongSample: ['should-fail'] });
    } finally {
      await webhook.close();
    }
  });
});

describe('decodeNotification is strict', () => {
  it('refuses bytes that only protobuf leniency would accept (unknown fields, wrong wire types)', () => {
    // Field 1, varint: SvcWorkResponse has no field 1.
    expect(() => decodeNotification(Buffer.from([0x08, 0x01]))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
    // Field 2 (context) as a varint instead of a message.
    expect(() => decodeNotification(Buffer.from([0x10, 0x01]))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
    // Truncated: context says 5 bytes follow, 1 does.
    expect(() => decodeNotification(Buffer.from([0x12, 0x05, 0x1a]))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
  });

  it('refuses JSON that is neither a SvcWorkResponse nor an envelope notification', () => {
    expect(() => decodeNotification(Buffer.from('{"foo":1}'))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
    expect(() => decodeNotification(Buffer.from('{"outcome":"maybe"}'))).toThrow(expect.objectContaining({ code: 'WEBHOOK_UNDECODABLE' }));
  });

  it('reads an envelope notification by its id, or its context id', () => {
    expect(decodeNotification(Buffer.from(JSON.stringify({ id: 'e1', outcome: 'succeeded', tier: 1, attempts: 1 })))).toEqual({
      format: 'envelope',
      jobId: 'e1',
      outcome: 'succeeded',
      tier: 1,
      attempts: 1,
    });
    expect(decodeNotification(Buffer.from(JSON.stringify({ context: { id: 'e2' }, outcome: 'failed', error: { type: 'Error', message: 'm' } })))).toMatchObject({
      jobId: 'e2',
      outcome: 'failed',
    });
  });
});

describe('webhook receiver, refusing on purpose', () => {
  it('answers 500 without counting a refused notification, and names the notification task of an accepted one', async () => {
    const seen: { jobId: string | undefined; task: string | undefined }[] = [];
    let accept = false;
    const hook = await startWebhook({ accept: () => accept, onNotification: (n, d) => seen.push({ jobId: n.jobId, task: d.task }) });
    try {
      const send = () => fetch(`${hook.url}/notify`, { method: 'POST', body: new Uint8Array(binaryResponse('flap-1')), headers: { 'x-cloudtasks-taskname': 'note-1' } });
      expect((await send()).status).toBe(500);
      expect(hook.tally.snapshot().notifications).toBe(0);
      accept = true;
      expect((await send()).status).toBe(200);
      expect(hook.tally.snapshot().notifications).toBe(1);
      expect(seen).toEqual([{ jobId: 'flap-1', task: 'note-1' }]);
    } finally {
      await hook.close();
    }
  });
});

describe('the webhook /results (outcome messages pushed from the results topic)', () => {
  let hook: Webhook;
  beforeEach(async () => {
    hook = await startWebhook();
  });
  afterEach(async () => {
    await hook.close();
  });

  const envelope = (data: Buffer, attributes: Record<string, string>, messageId: string) =>
    JSON.stringify({ message: { data: data.toString('base64'), attributes, messageId }, subscription: 'projects/p/subscriptions/job-results-webhook' });
  const post = (body: string) => fetch(`${hook.url}/results`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('counts an outcome once per eventId: a republished event is acked and counted as redelivered, not as a duplicate', async () => {
    const attributes = { outcome: 'failed', jobId: 'job-9', tier: '2', eventId: 'e-1' };
    const body = binaryResponse('job-9', { type: 'Error', message: 'x' });
    expect((await post(envelope(body, attributes, '1'))).status).toBe(200);
    expect((await post(envelope(body, attributes, '2'))).status).toBe(200);
    expect(hook.results.job('job-9')).toEqual({ outcomes: ['failed'], tier: 2 });
    expect(hook.results.snapshot()).toMatchObject({ notifications: 1, duplicates: 0 });
    expect(hook.resultsRedelivered()).toBe(1);
  });

  it('counts two different events for one job as a duplicate', async () => {
    await post(envelope(binaryResponse('job-7'), { outcome: 'succeeded', jobId: 'job-7', tier: '1', eventId: 'a' }, '1'));
    await post(envelope(binaryResponse('job-7', { type: 'E', message: 'm' }), { outcome: 'failed', jobId: 'job-7', tier: '2', eventId: 'b' }, '2'));
    expect(hook.results.snapshot()).toMatchObject({ notifications: 2, duplicates: 1 });
  });

  it('acks (200) but counts a body that is no notification or no envelope, since a nack would only come back', async () => {
    expect((await post(envelope(Buffer.from('{not json'), { outcome: 'succeeded', eventId: 'z' }, '1'))).status).toBe(200);
    expect((await post('{"hello": 1}')).status).toBe(200);
    expect(hook.results.snapshot().undecodable).toBe(2);
  });
});

describe('notifications by job', () => {
  const view = (jobId: string) => ({ receivedAt: 0, jobId, outcome: 'succeeded' as const, format: 'proto-json', body: '{}' });

  it('forgets the oldest jobs beyond its bound, and ignores notifications without a job id', () => {
    const byJob = new JobNotifications(2);
    byJob.add(view('a'));
    byJob.add(view('b'));
    byJob.add({ ...view(''), jobId: undefined } as never);
    byJob.add(view('c'));
    expect(byJob.find(['a', 'b', 'c'])).toMatchObject({ pending: ['a'], notifications: [{ jobId: 'b' }, { jobId: 'c' }] });
  });

  it('answers a wait at once when one of the jobs is already notified', async () => {
    const byJob = new JobNotifications();
    byJob.add(view('done'));
    expect(await byJob.wait(['done', 'other'], 60_000)).toMatchObject({ notifications: [{ jobId: 'done' }], pending: ['other'] });
  });
});
