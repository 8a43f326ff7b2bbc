import { describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { taskToGrpc } from '../../../src/emulator/api/convert.js';
import { makeTaskEncoder } from '../../../src/emulator/api/grpc.js';
import { CLOUD_TASKS_SERVICE, loadCloudTasksDefinition } from '../../../src/emulator/api/protos.js';
import type { TaskRecord, TaskView } from '../../../src/emulator/model.js';

const base: TaskRecord = {
  name: 'projects/p/locations/l/queues/q/tasks/t',
  id: 't',
  queueName: 'projects/p/locations/l/queues/q',
  http: { url: 'http://x/y', httpMethod: 'POST', headers: {} },
  scheduleTimeMs: Date.parse('2024-01-01T00:00:00.500Z'),
  createTimeMs: Date.parse('2024-01-01T00:00:00Z'),
  dispatchDeadlineMs: 600_000,
  dispatchCount: 0,
  responseCount: 0,
  executionCount: 0,
  named: false,
  seq: 1,
  gen: 0,
  scheduled: true,
  inFlight: 0,
  gone: false,
};

const full: TaskRecord = {
  ...base,
  http: {
    url: 'https://example.test/a?b=c',
    httpMethod: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
    body: Buffer.from('{"hello":"world"}'),
    auth: { kind: 'oidc', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com', audience: 'https://aud' },
  },
  dispatchCount: 3,
  responseCount: 2,
  executionCount: 1,
  firstAttempt: { scheduleTimeMs: 0, dispatchTimeMs: Date.parse('2024-01-01T00:00:01.250Z') },
  lastAttempt: {
    scheduleTimeMs: Date.parse('2024-01-01T00:00:02Z'),
    dispatchTimeMs: Date.parse('2024-01-01T00:00:02.001Z'),
    responseTimeMs: Date.parse('2024-01-01T00:00:03Z'),
    responseStatus: { code: 13, message: 'HTTP status code 500' },
  },
};

const oauth: TaskRecord = { ...base, http: { url: 'http://x/', httpMethod: 'GET', headers: {}, auth: { kind: 'oauth', serviceAccountEmail: 'sa@x', scope: 's' } } };

describe('direct Task encoding for gRPC answers', () => {
  const method = (loadCloudTasksDefinition()[CLOUD_TASKS_SERVICE] as grpc.ServiceDefinition).CreateTask!;
  const encode = makeTaskEncoder();
  const cases: Array<[string, TaskRecord, TaskView]> = [
    ['a fresh task, BASIC view', base, 'BASIC'],
    ['a task with body, headers, OIDC and attempts, FULL view', full, 'FULL'],
    ['the same task, BASIC view (no body)', full, 'BASIC'],
    ['a GET task with an OAuth token', oauth, 'FULL'],
  ];
  for (const [label, task, view] of cases) {
    it(`decodes to the same Task as proto-loader's serializer produces: ${label}`, () => {
      const direct = encode(task, view);
      const viaLoader = method.responseSerialize(taskToGrpc(task, view));
      expect(method.responseDeserialize(direct)).toEqual(method.responseDeserialize(viaLoader));
      expect(Buffer.isBuffer(direct)).toBe(true);
    });
  }
});
