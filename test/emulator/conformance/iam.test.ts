// Pins the IAM RPCs on queues. cloudtasks.proto: GetIamPolicy "Returns an empty policy if the
// resource exists and does not have a policy set"; SetIamPolicy "Replaces any existing policy";
// TestIamPermissions "If the resource does not exist, this will return an empty set of
// permissions, not a NOT_FOUND error". google/iam/v1/policy.proto: the etag is for optimistic
// concurrency ("systems are expected to put that etag in the request to setIamPolicy"), and
// iam_policy.proto: permissions "with wildcards (such as '*' or 'storage.*') are not allowed".
// The emulator stores policies but never enforces them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, type Harness } from './helpers/harness.js';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ABORTED = 10;

const etagOf = (p: { etag?: Uint8Array | string | null }): string => Buffer.from(p.etag ?? '').toString('base64');

describe.each(MODES)('IAM policies (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('returns an empty policy with an etag until one is set', async () => {
    const queue = h.uniqueQueueId('iam-empty');
    await h.createQueue(queue);
    const [policy] = await h.client.getIamPolicy({ resource: h.queuePath(queue) });
    expect(policy.bindings ?? []).toEqual([]);
    expect(etagOf(policy)).not.toBe('');
  });

  it('stores the policy SetIamPolicy gives and returns it from GetIamPolicy, with its etag', async () => {
    const queue = h.uniqueQueueId('iam-set');
    await h.createQueue(queue);
    const bindings = [
      { role: 'roles/cloudtasks.enqueuer', members: ['serviceAccount:caller@p.iam.gserviceaccount.com', 'user:dev@example.com'] },
      { role: 'roles/cloudtasks.viewer', members: ['group:ops@example.com'] },
    ];
    const [set] = await h.client.setIamPolicy({ resource: h.queuePath(queue), policy: { bindings } });
    expect(set.bindings).toMatchObject(bindings);
    expect(set.version).toBe(1);
    const [got] = await h.client.getIamPolicy({ resource: h.queuePath(queue) });
    expect(got.bindings).toMatchObject(bindings);
    expect(etagOf(got)).toBe(etagOf(set));
    // Each queue has its own policy.
    const other = h.uniqueQueueId('iam-other');
    await h.createQueue(other);
    const [otherPolicy] = await h.client.getIamPolicy({ resource: h.queuePath(other) });
    expect(otherPolicy.bindings ?? []).toEqual([]);
  });

  it('refuses a SetIamPolicy whose etag is not the current one with ABORTED, and accepts the current one', async () => {
    const queue = h.uniqueQueueId('iam-etag');
    await h.createQueue(queue);
    const resource = h.queuePath(queue);
    const [first] = await h.client.setIamPolicy({ resource, policy: { bindings: [{ role: 'roles/cloudtasks.enqueuer', members: ['user:a@example.com'] }] } });
    const [second] = await h.client.setIamPolicy({
      resource,
      policy: { bindings: [{ role: 'roles/cloudtasks.enqueuer', members: ['user:b@example.com'] }], etag: first.etag ?? null },
    });
    expect(etagOf(second)).not.toBe(etagOf(first));
    // A writer that read the first version loses.
    expect(
      await errorCode(() =>
        h.client.setIamPolicy({ resource, policy: { bindings: [{ role: 'roles/cloudtasks.enqueuer', members: ['user:c@example.com'] }], etag: first.etag ?? null } }),
      ),
    ).toBe(ABORTED);
    const [got] = await h.client.getIamPolicy({ resource });
    expect(got.bindings?.[0]?.members).toEqual(['user:b@example.com']);
  });

  it('rejects a malformed role or member with INVALID_ARGUMENT', async () => {
    const queue = h.uniqueQueueId('iam-bad');
    await h.createQueue(queue);
    const resource = h.queuePath(queue);
    expect(await errorCode(() => h.client.setIamPolicy({ resource, policy: { bindings: [{ role: 'enqueuer', members: ['user:a@example.com'] }] } }))).toBe(
      INVALID_ARGUMENT,
    );
    expect(
      await errorCode(() => h.client.setIamPolicy({ resource, policy: { bindings: [{ role: 'roles/cloudtasks.enqueuer', members: ['a@example.com'] }] } })),
    ).toBe(INVALID_ARGUMENT);
  });

  it('answers TestIamPermissions with the queue permissions asked for, and none for a missing queue', async () => {
    const queue = h.uniqueQueueId('iam-test');
    await h.createQueue(queue);
    const asked = ['cloudtasks.tasks.create', 'cloudtasks.queues.get', 'storage.buckets.get'];
    const [granted] = await h.client.testIamPermissions({ resource: h.queuePath(queue), permissions: asked });
    expect(granted.permissions).toEqual(['cloudtasks.tasks.create', 'cloudtasks.queues.get']);
    const [none] = await h.client.testIamPermissions({ resource: h.queuePath('no-such-queue'), permissions: asked });
    expect(none.permissions ?? []).toEqual([]);
    expect(await errorCode(() => h.client.testIamPermissions({ resource: h.queuePath(queue), permissions: ['cloudtasks.*'] }))).toBe(INVALID_ARGUMENT);
  });

  it('answers GetIamPolicy and SetIamPolicy on a missing queue with NOT_FOUND', async () => {
    expect(await errorCode(() => h.client.getIamPolicy({ resource: h.queuePath('no-such-queue') }))).toBe(NOT_FOUND);
    expect(await errorCode(() => h.client.setIamPolicy({ resource: h.queuePath('no-such-queue'), policy: { bindings: [] } }))).toBe(NOT_FOUND);
  });
});
