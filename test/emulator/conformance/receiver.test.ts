// The receiver is the suite's measuring instrument: check that it records and answers as scripted.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaps, header, startReceiver, statuses, type Receiver } from './helpers/receiver.js';

describe('conformance receiver', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('records method, path with query, headers, body and arrival time, and answers from the script', async () => {
    receiver.on('/scripted', statuses(500, 429));
    const first = await request(`${receiver.url}/scripted?x=1`, { method: 'PUT', body: 'one', headers: { 'x-test': 'a' } });
    await first.body.text();
    const second = await request(`${receiver.url}/scripted`, { method: 'POST', body: 'two' });
    await second.body.text();
    const third = await request(`${receiver.url}/scripted`, { method: 'POST' });
    await third.body.text();
    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([500, 429, 200]);
    const got = await receiver.waitFor('/scripted', 3);
    expect(got[0]).toMatchObject({ method: 'PUT', path: '/scripted?x=1' });
    expect(got[0]!.body.toString()).toBe('one');
    expect(header(got[0]!, 'X-Test')).toBe('a');
    expect(gaps(got).every((g) => g >= 0)).toBe(true);
  });

  it('sends headers such as Retry-After, delays, and tracks the peak in flight per path', async () => {
    receiver.on('/retry-after', () => ({ status: 503, headers: { 'Retry-After': '3' } }));
    const res = await request(`${receiver.url}/retry-after`);
    await res.body.text();
    expect(res.headers['retry-after']).toBe('3');
    receiver.on('/slow', () => ({ delayMs: 100 }));
    await Promise.all([1, 2, 3].map(async () => (await request(`${receiver.url}/slow`)).body.text()));
    expect(receiver.peakInFlight('/slow')).toBe(3);
    expect(receiver.inFlight('/slow')).toBe(0);
  });

  it('drops the connection without an answer when told to', async () => {
    receiver.on('/drop', () => ({ destroy: true }));
    await expect(request(`${receiver.url}/drop`)).rejects.toThrow();
  });

  it('rejects waitFor with a clear message when too few requests arrive', async () => {
    await expect(receiver.waitFor('/never', 1, 50)).rejects.toThrow(/expected 1 requests on \/never/);
  });
});
