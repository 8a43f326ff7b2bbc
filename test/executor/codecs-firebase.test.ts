/** The fourth push format: firebase-admin's task-queue body `{"data": …}`. */
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeNotification, UndecodableBodyError } from '../../src/executor/codecs.js';

const body = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('Firebase task-queue bodies', () => {
  it('decode to a job whose payload is `data`, as sent by firebase-admin', () => {
    const data = { sourceFile: 'gs://bucket/a.pdf', nested: [1, 2, { x: null }] };
    const decoded = decodeBody(body({ data }));
    expect(decoded.job).toEqual({ format: 'firebase', payload: data });
    expect(decoded.id).toBeUndefined();
  });

  it('accept any JSON value as data, including a scalar and null', () => {
    expect(decodeBody(body({ data: 42 })).job.payload).toBe(42);
    expect(decodeBody(body({ data: null })).job).toEqual({ format: 'firebase', payload: null });
  });

  it('are told apart only by `data` being the sole key: anything more is not Firebase and is refused with a reason', () => {
    expect(() => decodeBody(body({ data: 1, sourceFile: 'gs://b/x' }))).toThrow(UndecodableBodyError);
    expect(decodeBody(body({ payload: { data: 1 } })).job.format).toBe('envelope');
    expect(decodeBody(body({ sourceFile: 'gs://b/x' })).job.format).toBe('proto-json');
  });

  it('get a JSON notification, like the envelope', () => {
    const decoded = decodeBody(body({ data: { n: 1 } }));
    const n = encodeNotification(decoded, { outcome: 'succeeded', result: { ok: true }, tier: 1, path: [{ queue: 'q', attempts: 1 }], completedAt: new Date(0) });
    expect(n.contentType).toBe('application/json');
    expect(JSON.parse(n.body.toString())).toMatchObject({ outcome: 'succeeded', result: { ok: true }, tier: 1 });
  });
});
