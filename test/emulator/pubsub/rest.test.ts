// The Pub/Sub v1 REST/JSON face through plain fetch, on the same port as Cloud Tasks: the paths of
// pubsub.proto's google.api.http annotations, proto3 JSON (base64 data, "10s" durations, RFC 3339
// times) and Google's error JSON {"error":{"code","message","status"}}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

/** A parsed JSON body, inspected loosely by the assertions. */
type Json = ReturnType<typeof JSON.parse>;

let emulator: Emulator;
let base: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  base = `${emulator.url}/v1/projects/rest-project`;
});
afterAll(async () => {
  await emulator?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) };
}

describe('Pub/Sub REST', () => {
  it('creates, publishes, pulls, extends and acknowledges', async () => {
    expect((await call('PUT', '/topics/rest-topic', { labels: { team: 'a' } })).json).toMatchObject({ name: 'projects/rest-project/topics/rest-topic', labels: { team: 'a' } });
    const created = await call('PUT', '/subscriptions/rest-sub', { topic: 'projects/rest-project/topics/rest-topic', ackDeadlineSeconds: 20 });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ ackDeadlineSeconds: 20, messageRetentionDuration: '604800s', topic: 'projects/rest-project/topics/rest-topic' });

    const published = await call('POST', '/topics/rest-topic:publish', {
      messages: [{ data: Buffer.from('one').toString('base64'), attributes: { n: '1' } }, { data: Buffer.from('two').toString('base64') }],
    });
    expect(published.json.messageIds).toHaveLength(2);

    const pulled = await call('POST', '/subscriptions/rest-sub:pull', { maxMessages: 10 });
    const received = pulled.json.receivedMessages as Array<{ ackId: string; message: { data: string; messageId: string; publishTime: string; attributes?: Record<string, string> } }>;
    expect(received.map((r) => Buffer.from(r.message.data, 'base64').toString())).toEqual(['one', 'two']);
    expect(received[0]!.message.attributes).toEqual({ n: '1' });
    expect(received[0]!.message.publishTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(received[0]).not.toHaveProperty('deliveryAttempt');

    expect((await call('POST', '/subscriptions/rest-sub:modifyAckDeadline', { ackIds: [received[1]!.ackId], ackDeadlineSeconds: 0 })).status).toBe(200);
    expect((await call('POST', '/subscriptions/rest-sub:acknowledge', { ackIds: [received[0]!.ackId] })).status).toBe(200);
    const again = await call('POST', '/subscriptions/rest-sub:pull', { maxMessages: 10, returnImmediately: true });
    expect((again.json.receivedMessages as Array<{ message: { messageId: string } }>).map((r) => r.message.messageId)).toEqual([received[1]!.message.messageId]);
  });

  it('updates a subscription through PATCH with an update mask, and refuses immutable fields', async () => {
    await call('PUT', '/topics/patch-topic', {});
    await call('PUT', '/subscriptions/patch-sub', { topic: 'projects/rest-project/topics/patch-topic' });
    const patched = await call('PATCH', '/subscriptions/patch-sub', {
      subscription: { ackDeadlineSeconds: 42, retryPolicy: { minimumBackoff: '1.5s', maximumBackoff: '30s' } },
      updateMask: 'ackDeadlineSeconds,retryPolicy',
    });
    expect(patched.json).toMatchObject({ ackDeadlineSeconds: 42, retryPolicy: { minimumBackoff: '1.500s', maximumBackoff: '30s' } });
    const immutable = await call('PATCH', '/subscriptions/patch-sub', { subscription: { enableMessageOrdering: true }, updateMask: 'enableMessageOrdering' });
    expect(immutable.status).toBe(400);
    expect(immutable.json.error.status).toBe('INVALID_ARGUMENT');
    const noMask = await call('PATCH', '/subscriptions/patch-sub', { subscription: { ackDeadlineSeconds: 30 } });
    expect(noMask.json.error.message).toMatch(/update_mask/);
  });

  it('pages topics through pageSize and pageToken query parameters', async () => {
    for (const t of ['page-a', 'page-b', 'page-c']) await call('PUT', `/topics/${t}`, {});
    const first = await call('GET', '/topics?pageSize=2');
    expect(first.json.topics).toHaveLength(2);
    const rest = await call('GET', `/topics?pageSize=100&pageToken=${encodeURIComponent(first.json.nextPageToken as string)}`);
    const names = [...first.json.topics, ...rest.json.topics].map((t: { name: string }) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(rest.json.nextPageToken).toBe('');
    expect((await call('GET', '/topics?pageToken=garbage')).json.error.status).toBe('INVALID_ARGUMENT');
  });

  it('answers Google error JSON with production status codes', async () => {
    expect(await call('GET', '/topics/nope-topic')).toEqual({ status: 404, json: { error: { code: 404, message: 'Resource not found (resource=nope-topic).', status: 'NOT_FOUND' } } });
    await call('PUT', '/topics/twice-topic', {});
    expect((await call('PUT', '/topics/twice-topic', {})).json.error).toMatchObject({ code: 409, status: 'ALREADY_EXISTS' });
    expect((await call('PUT', '/topics/x', {})).json.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect((await call('POST', '/topics/twice-topic:publish', { messages: [{ data: '***' }] })).json.error.status).toBe('INVALID_ARGUMENT');
    expect((await call('POST', '/topics/twice-topic:publish', { messages: [{}] })).json.error.message).toMatch(/empty/);
    expect((await call('POST', '/subscriptions/nope-sub:pull', { maxMessages: 1 })).status).toBe(404);
    const res = await fetch(`${base}/topics/twice-topic:publish`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
  });

  it('answers a body nested deeper than 100 levels with INVALID_ARGUMENT instead of taking it', async () => {
    await call('PUT', '/topics/deep-topic', {});
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    for (const [method, path, text] of [
      ['PUT', '/subscriptions/deep-sub', `{"topic":"projects/rest-project/topics/deep-topic","bigqueryConfig":${deep}}`],
      ['POST', '/topics/deep-topic:publish', `{"messages":[{"data":"YQ==","x":${deep}}]}`],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method, body: text });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringMatching(/deeper than 100 levels/) as unknown } });
    }
    expect((await call('GET', '/subscriptions/deep-sub')).status).toBe(404);
  });

  it('leaves the Cloud Tasks API on the same port untouched', async () => {
    const res = await fetch(`${emulator.url}/v2/projects/rest-project/locations/us-central1/queues`);
    expect(res.status).toBe(200);
  });
});
