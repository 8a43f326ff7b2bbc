// Values the official client can send but the API must refuse, through both transports: a Timestamp
// outside google.protobuf.Timestamp's range (year 1 to 9999, nanos 0 to 999,999,999), a Duration
// whose nanos exceed ±999,999,999, and a NaN max_dispatches_per_second (proto3 JSON writes it
// "NaN"; over gRPC it is a plain double). Production answers INVALID_ARGUMENT for each; before, the
// emulator took the timestamp as given and read NaN as "unset", i.e. the default rate.
// The REST client writes Timestamps as text itself (proto3-json-serializer): year 0 becomes
// "0000-12-31T…", nanos -1 ".0000000-1Z", but nanos 2e9 comes out as a valid ".2Z" and a Duration's
// 2e9 nanos as "20.200s", so those two reach the server intact only over gRPC. The text forms
// themselves ("2024-02-30T00:00:00Z" is no date, though Date.parse rolls it over to March 1) are
// pinned through plain HTTP below.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { apiError, LOCATION_PATH, startHarness, type Harness } from './helpers/harness.js';

const INVALID_ARGUMENT = 3;
/** 0001-01-01T00:00:00Z in Unix seconds: the earliest Timestamp. */
const YEAR_ONE = -62_135_596_800;

describe.each(MODES)('invalid timestamps, durations and rates (%s client)', (mode) => {
  let h: Harness;
  let queue: string;
  beforeAll(async () => {
    h = await startHarness(mode);
    queue = h.uniqueQueueId('invalid');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const createWith = (task: Record<string, unknown>): Promise<unknown> =>
    h.client.createTask({ parent: h.queuePath(queue), task: { httpRequest: { url: `${h.receiver.url}/x` }, ...task } });

  it('refuses a schedule_time before year 1 or with nanos outside 0..999999999', async () => {
    const cases = [{ seconds: YEAR_ONE - 1, nanos: 0 }, { seconds: 1_700_000_000, nanos: -1 }];
    if (mode === 'grpc') cases.push({ seconds: 1_700_000_000, nanos: 2e9 });
    for (const scheduleTime of cases) {
      expect(await apiError(() => createWith({ scheduleTime })), JSON.stringify(scheduleTime)).toMatchObject({
        code: INVALID_ARGUMENT,
        message: expect.stringMatching(/schedule_time/) as unknown,
      });
    }
    const [tasks] = await h.client.listTasks({ parent: h.queuePath(queue) });
    expect(tasks).toEqual([]);
  });

  it.runIf(mode === 'grpc')('refuses a dispatch_deadline whose nanos exceed 999999999', async () => {
    expect(await apiError(() => createWith({ dispatchDeadline: { seconds: 20, nanos: 2e9 } }))).toMatchObject({ code: INVALID_ARGUMENT });
  });

  it('refuses NaN for max_dispatches_per_second instead of taking it as unset', async () => {
    const name = `${LOCATION_PATH}/queues/${h.uniqueQueueId('nan-rate')}`;
    expect(await apiError(() => h.client.createQueue({ parent: LOCATION_PATH, queue: { name, rateLimits: { maxDispatchesPerSecond: Number.NaN } } }))).toMatchObject({
      code: INVALID_ARGUMENT,
      message: expect.stringMatching(/max_dispatches_per_second/) as unknown,
    });
    expect(
      await apiError(() => h.client.updateQueue({ queue: { name: h.queuePath(queue), rateLimits: { maxDispatchesPerSecond: Number.NaN } }, updateMask: { paths: ['rate_limits.max_dispatches_per_second'] } })),
    ).toMatchObject({ code: INVALID_ARGUMENT });
  });
});

describe('invalid RFC 3339 timestamps (REST)', () => {
  let h: Harness;
  let queue: string;
  beforeAll(async () => {
    h = await startHarness('rest');
    queue = h.uniqueQueueId('invalid-text');
    await h.createQueue(queue);
    await h.client.pauseQueue({ name: h.queuePath(queue) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = async (scheduleTime: string): Promise<{ status: number; error?: { status?: string; message?: string }; scheduleTime?: string }> => {
    const res = await fetch(`${h.emulator.url}/v2/${h.queuePath(queue)}/tasks`, {
      method: 'POST',
      body: JSON.stringify({ task: { httpRequest: { url: `${h.receiver.url}/x` }, scheduleTime } }),
    });
    return { status: res.status, ...((await res.json()) as object) };
  };

  it('refuses dates the calendar does not have instead of rolling them over', async () => {
    for (const bad of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:60Z', '0000-12-31T00:00:00Z', '2024-01-01T00:00:00+24:00', '1900-02-29T00:00:00Z', '2023-11-14T22:13:20.0000000-1Z']) {
      const r = await post(bad);
      expect(r.status, bad).toBe(400);
      expect(r.error, bad).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringMatching(/schedule_time/) as unknown });
    }
  });

  it('takes leap days, offsets and nanosecond fractions', async () => {
    // Past times are dispatched now (the answer says so), so only acceptance shows for leap days.
    expect(await post('2024-02-29T12:00:00.123456789Z')).toMatchObject({ status: 200 });
    expect(await post('2000-02-29T00:00:00Z')).toMatchObject({ status: 200 });
    const tomorrow = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
    const plusTwoHours = new Date(tomorrow.getTime() + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '.5+02:00');
    expect(await post(plusTwoHours)).toMatchObject({ status: 200, scheduleTime: tomorrow.toISOString().replace('.000Z', '.500Z') });
  });
});
