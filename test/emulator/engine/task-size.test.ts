import { describe, expect, it } from 'vitest';
import { taskToGrpc } from '../../../src/emulator/api/convert.js';
import { loadTaskType } from '../../../src/emulator/api/protos.js';
import { storedTaskSize } from '../../../src/emulator/engine/task-size.js';
import type { TaskRecord } from '../../../src/emulator/model.js';

const taskType = loadTaskType();

function task(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    name: 'projects/p/locations/l/queues/q/tasks/t',
    id: 't',
    queueName: 'projects/p/locations/l/queues/q',
    http: { url: 'https://example.com/work?x=1', httpMethod: 'POST', headers: { 'User-Agent': 'Google-Cloud-Tasks', 'X-A': 'b' } },
    scheduleTimeMs: 1_700_000_000_123,
    createTimeMs: 1_700_000_000_000,
    dispatchDeadlineMs: 600_000,
    dispatchCount: 0,
    responseCount: 0,
    executionCount: 0,
    named: true,
    seq: 1,
    gen: 0,
    scheduled: false,
    inFlight: 0,
    gone: false,
    ...overrides,
  };
}

/** Drops zero scalars, which protobufjs writes when present and proto3 leaves out on the wire. */
function proto3(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== 0 && x !== '').map(([k, x]) => [k, proto3(x)]));
}

/** The stored form production measures: the FULL task as created, without the view field. */
function encodedSize(t: TaskRecord): number {
  const { view: _view, ...stored } = taskToGrpc(t, 'FULL', true);
  return taskType.encode(proto3(stored) as Record<string, unknown>).finish().length;
}

describe('storedTaskSize', () => {
  it('is the serialized size of the stored task, byte for byte', () => {
    const cases: TaskRecord[] = [
      task(),
      task({ http: { ...task().http, body: Buffer.alloc(300_000, 1) } }),
      task({ http: { ...task().http, httpMethod: 'GET', headers: {} } }),
      task({ dispatchDeadlineMs: 15_500, scheduleTimeMs: 1_700_000_999_999 }),
      task({ http: { ...task().http, auth: { kind: 'oidc', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com', audience: 'https://aud' } } }),
      task({ http: { ...task().http, auth: { kind: 'oauth', serviceAccountEmail: 'sa@p.iam.gserviceaccount.com' } } }),
      task({ name: `projects/p/locations/l/queues/q/tasks/${'x'.repeat(500)}`, http: { ...task().http, headers: { 'X-Ünïcode': 'välue' } } }),
    ];
    for (const t of cases) expect(storedTaskSize(t)).toBe(encodedSize(t));
  });
});
