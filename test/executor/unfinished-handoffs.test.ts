import { describe, expect, it } from 'vitest';
import type { DecideOutcome } from '../../src/executor/decide.js';
import type { Delivery } from '../../src/executor/delivery.js';
import { deliveryKey, makeUnfinishedHandoffs, UNFINISHED_HANDOFF_TTL_MS } from '../../src/executor/unfinished-handoffs.js';

const body = Buffer.from('{"payload":1}');
const success: DecideOutcome = { kind: 'success', result: { n: 1 } };
const failed: DecideOutcome = { kind: 'retryable', error: { type: 'Error', message: 'x' } };

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('unfinished handoffs', () => {
  it('recalls the outcome remembered for the same delivery and bytes, until it is forgotten', () => {
    const store = makeUnfinishedHandoffs();
    expect(store.size).toBe(0);
    store.remember('k', body, success);
    expect(store.size).toBe(1);
    expect(store.recall('k', Buffer.from(body))).toEqual(success);
    store.forget('k');
    expect(store.recall('k', body)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('does not recall an outcome for other bytes under the same key', () => {
    const store = makeUnfinishedHandoffs();
    store.remember('k', body, success);
    expect(store.recall('k', Buffer.from('{"payload":2}'))).toBeUndefined();
  });

  it('keeps the latest outcome when the same delivery is remembered twice', () => {
    const store = makeUnfinishedHandoffs();
    store.remember('k', body, success);
    store.remember('k', body, failed);
    expect(store.size).toBe(1);
    expect(store.recall('k', body)).toEqual(failed);
  });

  it('stops trusting an entry after its time to live (1 h by default)', () => {
    const c = clock(1000);
    const store = makeUnfinishedHandoffs({ now: c.now });
    store.remember('k', body, success);
    c.t += UNFINISHED_HANDOFF_TTL_MS;
    expect(store.recall('k', body)).toEqual(success);
    c.t += 1;
    expect(store.recall('k', body)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('drops the oldest entry when full, so memory stays bounded', () => {
    const store = makeUnfinishedHandoffs({ max: 2 });
    store.remember('a', body, success);
    store.remember('b', body, success);
    store.remember('a', body, failed); // re-remembered: now the newest
    store.remember('c', body, success);
    expect(store.size).toBe(2);
    expect(store.recall('b', body)).toBeUndefined();
    expect(store.recall('a', body)).toEqual(failed);
    expect(store.recall('c', body)).toEqual(success);
  });

  it('remembers nothing with max 0', () => {
    const store = makeUnfinishedHandoffs({ max: 0 });
    store.remember('k', body, success);
    expect(store.size).toBe(0);
  });
});

describe('deliveryKey', () => {
  const base: Delivery = { attempt: 1, path: [], warnings: [] };

  it('names a Cloud Tasks push by queue and task, and a Pub/Sub push by subscription and message id', () => {
    expect(deliveryKey({ ...base, queue: 'incoming', taskName: 't1' })).toBe('task incoming t1');
    const pubsub = { subscription: 'projects/p/subscriptions/s', messageId: '42', attributes: {} };
    expect(deliveryKey({ ...base, queue: 'ignored', taskName: 'ignored', pubsub })).toBe('pubsub projects/p/subscriptions/s 42');
  });

  it('gives no key to a push that names no task, so nothing is remembered for it', () => {
    expect(deliveryKey(base)).toBeUndefined();
    expect(deliveryKey({ ...base, queue: 'incoming' })).toBeUndefined();
  });
});
