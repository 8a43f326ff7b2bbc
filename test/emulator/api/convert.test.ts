import { describe, expect, it } from 'vitest';
import {
  camelizeKeys,
  formatDurationJson,
  parseDurationJson,
  queueFromGrpc,
  queueFromJson,
  queueToGrpc,
  queueToJson,
  taskFromGrpc,
  taskFromJson,
  taskToJson,
} from '../../../src/emulator/api/convert.js';
import { ApiError } from '../../../src/emulator/status.js';
import type { QueueRecord, TaskRecord } from '../../../src/emulator/model.js';

const queue: QueueRecord = {
  name: 'projects/p/locations/l/queues/q',
  rateLimits: { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 },
  retryConfig: { maxAttempts: 100, maxRetryDurationMs: 0, minBackoffMs: 100, maxBackoffMs: 3_600_000, maxDoublings: 16 },
  state: 'PAUSED',
  purgeTimeMs: Date.parse('2024-01-02T03:04:05.678Z'),
};

const task: TaskRecord = {
  name: 'projects/p/locations/l/queues/q/tasks/t',
  id: 't',
  queueName: queue.name,
  http: { url: 'http://x/y', httpMethod: 'PUT', headers: { A: 'b' }, body: Buffer.from('hello'), auth: { kind: 'oidc', serviceAccountEmail: 'sa@x', audience: 'aud' } },
  scheduleTimeMs: Date.parse('2024-01-01T00:00:00.500Z'),
  createTimeMs: Date.parse('2024-01-01T00:00:00Z'),
  dispatchDeadlineMs: 600_000,
  dispatchCount: 2,
  responseCount: 1,
  executionCount: 1,
  named: true,
  seq: 1,
  gen: 2,
  scheduled: true,
  inFlight: 0,
  gone: false,
  firstAttempt: { scheduleTimeMs: 0, dispatchTimeMs: Date.parse('2024-01-01T00:00:01Z') },
  lastAttempt: {
    scheduleTimeMs: Date.parse('2024-01-01T00:00:02Z'),
    dispatchTimeMs: Date.parse('2024-01-01T00:00:02Z'),
    responseTimeMs: Date.parse('2024-01-01T00:00:03Z'),
    responseStatus: { code: 13, message: 'HTTP status code 500' },
  },
};

function statusOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? err.status : String(err);
  }
  return 'no error';
}

describe('proto3 JSON durations', () => {
  it('formats and parses the forms the official client uses', () => {
    expect([formatDurationJson(100), formatDurationJson(3_600_000), formatDurationJson(1500), formatDurationJson(0)]).toEqual([
      '0.100s',
      '3600s',
      '1.500s',
      '0s',
    ]);
    expect([parseDurationJson('3.5s', 'f'), parseDurationJson('0.000001s', 'f'), parseDurationJson(2, 'f')]).toEqual([3500, 0, 2000]);
    expect(statusOf(() => parseDurationJson('3.5', 'f'))).toBe('INVALID_ARGUMENT');
  });
});

describe('REST JSON', () => {
  it('writes a queue with Durations, Timestamps and enum names, or numbers on request', () => {
    expect(queueToJson(queue, { numericEnums: false })).toEqual({
      name: queue.name,
      rateLimits: { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 },
      // An unlimited max_retry_duration is left unset, as production does.
      retryConfig: { maxAttempts: 100, minBackoff: '0.100s', maxBackoff: '3600s', maxDoublings: 16 },
      state: 'PAUSED',
      purgeTime: '2024-01-02T03:04:05.678Z',
    });
    expect(queueToJson(queue, { numericEnums: true }).state).toBe(2);
  });

  it('writes a task, with the body only in the FULL view', () => {
    const full = taskToJson(task, 'FULL', { numericEnums: false });
    expect(full).toMatchObject({
      name: task.name,
      httpRequest: { url: 'http://x/y', httpMethod: 'PUT', headers: { A: 'b' }, body: 'aGVsbG8=', oidcToken: { serviceAccountEmail: 'sa@x', audience: 'aud' } },
      scheduleTime: '2024-01-01T00:00:00.500Z',
      dispatchDeadline: '600s',
      dispatchCount: 2,
      responseCount: 1,
      view: 'FULL',
      firstAttempt: { dispatchTime: '2024-01-01T00:00:01.000Z' },
      lastAttempt: { responseStatus: { code: 13, message: 'HTTP status code 500' } },
    });
    const basic = taskToJson(task, 'BASIC', { numericEnums: true });
    expect((basic.httpRequest as Record<string, unknown>).body).toBeUndefined();
    expect(basic.view).toBe(1);
    expect((basic.httpRequest as Record<string, unknown>).httpMethod).toBe(4);
  });

  it('reads a task in camelCase or snake_case, enums as names or numbers, body as base64', () => {
    const input = taskFromJson({
      name: 'projects/p/locations/l/queues/q/tasks/t',
      http_request: { url: 'http://x', http_method: 4, headers: { 'X-Keep_Case': 'v' }, body: 'aGk=', oidc_token: { service_account_email: 'sa@x' } },
      scheduleTime: '2024-01-01T00:00:00.123456789Z',
      dispatchDeadline: '30s',
    });
    expect(input).toEqual({
      name: 'projects/p/locations/l/queues/q/tasks/t',
      http: { url: 'http://x', httpMethod: 'PUT', headers: { 'X-Keep_Case': 'v' }, body: Buffer.from('hi'), auth: { kind: 'oidc', serviceAccountEmail: 'sa@x', audience: '' } },
      scheduleTimeMs: Date.parse('2024-01-01T00:00:00.123Z'),
      dispatchDeadlineMs: 30_000,
    });
  });

  it('rejects unknown fields, wrong types and bad timestamps with INVALID_ARGUMENT', () => {
    expect(statusOf(() => taskFromJson({ httpRequest: { url: 42 } }))).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => taskFromJson({ bogus: 1 }))).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => taskFromJson({ scheduleTime: 'yesterday' }))).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => taskFromJson({ httpRequest: { url: 'http://x', httpMethod: 'FETCH' } }))).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => queueFromJson({ retryConfig: { minBackoff: 'fast' } }))).toBe('INVALID_ARGUMENT');
  });

  it('reads a queue with its retry durations', () => {
    expect(queueFromJson({ name: 'n', rateLimits: { maxDispatchesPerSecond: 5 }, retryConfig: { minBackoff: '0.5s', maxAttempts: -1 } })).toEqual({
      name: 'n',
      rateLimits: { maxDispatchesPerSecond: 5 },
      retryConfig: { minBackoffMs: 500, maxAttempts: -1 },
    });
  });

  it('leaves header names alone when normalising snake_case keys', () => {
    expect(camelizeKeys({ http_request: { headers: { my_header: 'x' } } })).toEqual({ httpRequest: { headers: { my_header: 'x' } } });
  });
});

describe('gRPC objects', () => {
  it('reads Durations, Timestamps, bytes and the oneof target', () => {
    const input = taskFromGrpc({
      httpRequest: { url: 'http://x', httpMethod: 'GET', headers: { a: 'b' }, body: Buffer.alloc(0), oauthToken: { serviceAccountEmail: 'sa@x' } },
      scheduleTime: { seconds: '1700000000', nanos: 500_000_000 },
      dispatchDeadline: { seconds: 20 },
    });
    expect(input).toEqual({
      http: { url: 'http://x', httpMethod: 'GET', headers: { a: 'b' }, auth: { kind: 'oauth', serviceAccountEmail: 'sa@x', scope: '' } },
      scheduleTimeMs: 1_700_000_000_500,
      dispatchDeadlineMs: 20_000,
    });
    expect(taskFromGrpc({ appEngineHttpRequest: { relativeUri: '/x', appEngineRouting: { service: 'worker', host: 'ignored' } } }).appEngine).toEqual({
      httpMethod: 'POST',
      relativeUri: '/x',
      headers: {},
      routing: { service: 'worker' },
    });
  });

  it('round-trips a queue retry config', () => {
    const back = queueFromGrpc(queueToGrpc(queue));
    expect(back.retryConfig).toEqual({ maxAttempts: 100, maxDoublings: 16, minBackoffMs: 100, maxBackoffMs: 3_600_000 });
    const limited = queueFromGrpc(queueToGrpc({ ...queue, retryConfig: { ...queue.retryConfig, maxRetryDurationMs: 90_500 } }));
    expect(limited.retryConfig?.maxRetryDurationMs).toBe(90_500);
    expect(back.state).toBe('PAUSED');
  });
});
