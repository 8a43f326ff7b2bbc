// Fault injection: the rules (pure), the --fault flag, the /emulator/faults control endpoint, and
// each fault as the official client (gRPC and REST) and a push target see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmulatorArgs } from '../../src/emulator/cli.js';
import { Faults, parseFaultSpec, ruleMatchesQueue } from '../../src/emulator/faults.js';
import { MODES } from './conformance/helpers/clients.js';
import { errorCode, startHarness, toMs, type Harness } from './conformance/helpers/harness.js';
import { header } from './conformance/helpers/receiver.js';
import { rejection } from '../helpers/rejection.js';

const UNAVAILABLE = 14;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const FAST_RETRY = { minBackoff: 0.05, maxBackoff: 0.2, maxAttempts: 10 };

describe('fault rules', () => {
  it('fails only as many CreateTask calls as the rule counts, then lets calls pass', () => {
    const faults = new Faults();
    faults.add({ kind: 'fail-create', count: 2 });
    expect(faults.onCreateTask('projects/p/locations/l/queues/q')).toMatchObject({ action: 'fail', code: 'UNAVAILABLE', phase: 'before' });
    expect(faults.onCreateTask('projects/p/locations/l/queues/q').action).toBe('fail');
    expect(faults.onCreateTask('projects/p/locations/l/queues/q')).toEqual({ action: 'pass' });
    expect(faults.list()).toEqual([]);
    expect(faults.stats()).toMatchObject({ createTaskCalls: 3, createTaskFaults: 2 });
  });

  it('applies a rule with a queue only to that queue, by id or full path', () => {
    expect(ruleMatchesQueue({ queue: 'notifier' }, 'projects/p/locations/l/queues/notifier')).toBe(true);
    expect(ruleMatchesQueue({ queue: 'projects/p/locations/l/queues/notifier' }, 'notifier')).toBe(true);
    expect(ruleMatchesQueue({ queue: 'notifier' }, 'projects/p/locations/l/queues/incoming')).toBe(false);
    expect(ruleMatchesQueue({}, 'anything')).toBe(true);
    const faults = new Faults();
    faults.add({ kind: 'fail-create', queue: 'notifier' });
    expect(faults.onCreateTask('projects/p/locations/l/queues/incoming').action).toBe('pass');
    expect(faults.onCreateTask('projects/p/locations/l/queues/notifier').action).toBe('fail');
  });

  it('keeps a rule without a count until it is cleared', () => {
    const faults = new Faults();
    const rule = faults.add({ kind: 'duplicate-dispatch' });
    for (let i = 0; i < 5; i++) expect(faults.onDispatch('q')).toEqual({ delayMs: 0, copies: 2 });
    expect(faults.clear(rule.id)).toBe(true);
    expect(faults.onDispatch('q')).toEqual({ delayMs: 0, copies: 1 });
    expect(faults.clear(rule.id)).toBe(false);
  });

  it('rejects a malformed rule with a coded error naming the field', () => {
    const faults = new Faults();
    const err = (() => {
      try {
        faults.add({ kind: 'delay-dispatch', ms: -1 } as never);
      } catch (e) {
        return e as { code: string; message: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe('EMULATOR_FAULT_INVALID');
    expect(err?.message).toMatch(/ms/);
  });

  it('parses the --fault flag form', () => {
    expect(parseFaultSpec('fail-create:code=NOT_FOUND,count=3,queue=notifier,after')).toEqual({
      kind: 'fail-create',
      code: 'NOT_FOUND',
      count: 3,
      queue: 'notifier',
      phase: 'after',
    });
    expect(parseFaultSpec('duplicate-dispatch')).toEqual({ kind: 'duplicate-dispatch', copies: 2 });
    expect(parseFaultSpec('delay-dispatch:ms=250')).toEqual({ kind: 'delay-dispatch', ms: 250 });
    expect(() => parseFaultSpec('explode')).toThrow(/kinds: fail-create/);
    expect(() => parseFaultSpec('fail-create:code=NOPE')).toThrow(/gRPC status name/);
  });

  it('takes repeated --fault flags on the emulator command and names every bad one', () => {
    expect(parseEmulatorArgs(['--fault', 'fail-create:count=1', '--fault', 'duplicate-dispatch']).faults).toEqual([
      { kind: 'fail-create', code: 'UNAVAILABLE', phase: 'before', count: 1 },
      { kind: 'duplicate-dispatch', copies: 2 },
    ]);
    expect(() => parseEmulatorArgs(['--fault', 'nope', '--fault', 'delay-dispatch'])).toThrow(/'nope'[\s\S]*'delay-dispatch'/);
  });
});

describe.each(MODES)('faults through the official client (%s)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('fails the next N CreateTask calls with the chosen code and creates nothing', async () => {
    const queue = h.uniqueQueueId('fail-before');
    await h.createQueue(queue, { retry: FAST_RETRY });
    h.emulator.faults.add({ kind: 'fail-create', code: 'UNAVAILABLE', count: 2, queue });
    expect(await errorCode(() => h.createTask(queue, { path: `/fb/${mode}`, id: 'a' }))).toBe(UNAVAILABLE);
    expect(await errorCode(() => h.createTask(queue, { path: `/fb/${mode}`, id: 'a' }))).toBe(UNAVAILABLE);
    expect(await errorCode(() => h.client.getTask({ name: h.taskPath(queue, 'a') }))).toBe(NOT_FOUND);
    await h.createTask(queue, { path: `/fb/${mode}`, id: 'a' });
    await h.receiver.waitFor(`/fb/${mode}`, 1);
  });

  it('answers a missing queue the way production does when told to (an outage of one queue)', async () => {
    const queue = h.uniqueQueueId('outage');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const rule = h.emulator.faults.add({ kind: 'fail-create', code: 'FAILED_PRECONDITION', message: 'Queue does not exist.', queue });
    expect(await errorCode(() => h.createTask(queue, { path: `/out/${mode}` }))).toBe(FAILED_PRECONDITION);
    expect(await errorCode(() => h.createTask(queue, { path: `/out/${mode}` }))).toBe(FAILED_PRECONDITION);
    h.emulator.faults.clear(rule.id);
    await h.createTask(queue, { path: `/out/${mode}` });
  });

  it('creates the task and still answers UNAVAILABLE with phase after (the ambiguous failure)', async () => {
    const queue = h.uniqueQueueId('fail-after');
    await h.createQueue(queue, { retry: FAST_RETRY });
    h.emulator.faults.add({ kind: 'fail-create', phase: 'after', count: 1, queue });
    expect(await errorCode(() => h.createTask(queue, { path: `/fa/${mode}`, id: 'amb' }))).toBe(UNAVAILABLE);
    const [received] = await h.receiver.waitFor(`/fa/${mode}`, 1);
    expect(header(received!, 'X-CloudTasks-TaskName')).toBe('amb');
    // The caller's retry with the same name learns that the task exists.
    expect(await errorCode(() => h.createTask(queue, { path: `/fa/${mode}`, id: 'amb' }))).toBe(6);
  });

  it('destroys the caller connection mid-call: before creates nothing, after creates the task', async () => {
    const queue = h.uniqueQueueId('drop');
    await h.createQueue(queue, { retry: FAST_RETRY });
    h.emulator.faults.add({ kind: 'drop-create', count: 1, queue });
    expect(await errorCode(() => h.createTask(queue, { path: `/drop/${mode}`, id: 'before' }))).not.toBe('no error');
    expect(await errorCode(() => h.client.getTask({ name: h.taskPath(queue, 'before') }))).toBe(NOT_FOUND);

    h.emulator.faults.add({ kind: 'drop-create', phase: 'after', count: 1, queue });
    expect(await errorCode(() => h.createTask(queue, { path: `/drop/${mode}`, id: 'after' }))).not.toBe('no error');
    const [received] = await h.receiver.waitFor(`/drop/${mode}`, 1);
    expect(header(received!, 'X-CloudTasks-TaskName')).toBe('after');
    expect(h.emulator.faults.stats().createTaskFaults).toBeGreaterThanOrEqual(2);
  });

  it('holds a push for the delay before sending it', async () => {
    const queue = h.uniqueQueueId('delay');
    await h.createQueue(queue, { retry: FAST_RETRY });
    h.emulator.faults.add({ kind: 'delay-dispatch', ms: 400, count: 1, queue });
    const created = await h.createTask(queue, { path: `/delay/${mode}` });
    const [received] = await h.receiver.waitFor(`/delay/${mode}`, 1);
    // Lower bound only: the push cannot arrive before the delay has passed since its schedule time.
    expect(received!.wallAt - toMs(created.scheduleTime)!).toBeGreaterThanOrEqual(400);
  });

  it('delivers every push twice at once with the same headers, and counts one dispatch', async () => {
    const queue = h.uniqueQueueId('dup');
    await h.createQueue(queue, { retry: FAST_RETRY });
    const dispatchedBefore = h.emulator.stats().dispatched;
    h.emulator.faults.add({ kind: 'duplicate-dispatch', count: 1, queue });
    await h.createTask(queue, { path: `/dup/${mode}`, id: 'twice', body: 'x' });
    const [a, b] = await h.receiver.waitFor(`/dup/${mode}`, 2);
    for (const name of ['X-CloudTasks-TaskName', 'X-CloudTasks-TaskRetryCount', 'X-CloudTasks-TaskExecutionCount']) {
      expect(header(b!, name)).toBe(header(a!, name));
    }
    await h.emulator.waitForIdle();
    expect(h.emulator.stats().dispatched - dispatchedBefore).toBe(1);
  });
});

describe('the /emulator/faults control endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('rest', { faults: ['fail-create:queue=never-used'] });
  });
  afterAll(async () => {
    await h?.close();
  });
  const url = (): string => `${h.emulator.url}/emulator/faults`;

  it('lists the rules given at start, adds one, clears one and all', async () => {
    const listed = (await (await fetch(url())).json()) as { faults: { id: string; kind: string; remaining: number | null }[] };
    expect(listed.faults).toMatchObject([{ kind: 'fail-create', queue: 'never-used', remaining: null }]);

    const added = await fetch(url(), { method: 'POST', body: JSON.stringify({ kind: 'delay-dispatch', ms: 10, count: 3 }) });
    expect(added.status).toBe(200);
    const rule = (await added.json()) as { id: string; remaining: number };
    expect(rule.remaining).toBe(3);
    expect(h.emulator.faults.list().map((r) => r.kind)).toEqual(['fail-create', 'delay-dispatch']);

    expect((await fetch(`${url()}/${rule.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${url()}/${rule.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(url(), { method: 'DELETE' })).status).toBe(200);
    expect(h.emulator.faults.list()).toEqual([]);
  });

  it('answers 400 with the reason for an invalid rule, and adds nothing', async () => {
    const res = await fetch(url(), { method: 'POST', body: JSON.stringify({ kind: 'fail-create', code: 'SOMETIMES' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/code/);
    expect(h.emulator.faults.list()).toEqual([]);
  });

  it('refuses a rule at start that does not parse', async () => {
    const { startEmulator } = await import('../../src/emulator/index.js');
    expect(await rejection(startEmulator({ faults: ['fail-create:count=zero'] }))).toMatchObject({ code: 'EMULATOR_FAULT_INVALID' });
  });
});
