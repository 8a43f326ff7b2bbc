import { describe, expect, it } from 'vitest';
import { decodeBody, encodeNotification } from '../../src/executor/codecs.js';
import { decodeNotification } from '../../src/local/notification.js';
import { encodeRequest, type RequestEncoding } from '../../src/local/wire.js';

const ENCODINGS: RequestEncoding[] = ['binary', 'json', 'envelope'];
const FORMAT = { binary: 'proto-binary', json: 'proto-json', envelope: 'envelope' } as const;

describe('the local clients speak the executor codec', () => {
  it.each(ENCODINGS)('a %s request built by submit decodes in the executor with its source file, webhook and id', (encoding) => {
    const body = encodeRequest({ sourceFile: 'invalid', webhookUrl: 'http://127.0.0.1:8090/notify', context: { id: 'job-7' } }, encoding);
    const decoded = decodeBody(body);
    expect(decoded.job.format).toBe(FORMAT[encoding]);
    expect(decoded.job.webhookUrl).toBe('http://127.0.0.1:8090/notify');
    expect(decoded.job.payload).toMatchObject({ sourceFile: 'invalid' });
    if (encoding === 'envelope') expect(decoded.id).toBe('job-7');
    else expect(decoded.context).toEqual({ id: 'job-7' });
  });

  it.each(ENCODINGS)('the webhook reads the executor\'s %s failure notification back to the job id and error', (encoding) => {
    const decoded = decodeBody(encodeRequest({ sourceFile: 'invalid', webhookUrl: 'http://127.0.0.1:1/n', context: { id: 'job-9' } }, encoding));
    const { body } = encodeNotification(decoded, {
      outcome: 'failed',
      error: { type: 'Error', message: 'invalid source file' },
      tier: 2,
      path: [
        { queue: 'incoming', attempts: 3 },
        { queue: 'incoming-2', attempts: 3 },
      ],
      completedAt: new Date(),
    });
    const n = decodeNotification(body);
    expect(n).toMatchObject({ format: FORMAT[encoding], jobId: 'job-9', outcome: 'failed', error: { type: 'Error', message: 'invalid source file' } });
    if (encoding === 'envelope') expect(n).toMatchObject({ tier: 2, attempts: 6 });
  });

  it.each(ENCODINGS)('the webhook reads the executor\'s %s success notification as a success', (encoding) => {
    const decoded = decodeBody(encodeRequest({ sourceFile: 'gs://b/f', context: { id: 'ok-1' } }, encoding));
    const { body } = encodeNotification(decoded, { outcome: 'succeeded', tier: 1, path: [{ queue: 'incoming', attempts: 1 }], completedAt: new Date() });
    expect(decodeNotification(body)).toMatchObject({ format: FORMAT[encoding], jobId: 'ok-1', outcome: 'succeeded' });
  });
});
