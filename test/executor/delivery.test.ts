import { describe, expect, it } from 'vitest';
import { formatPath, parsePath, readDelivery } from '../../src/executor/delivery.js';

describe('readDelivery', () => {
  it('reads every Cloud Tasks header', () => {
    const d = readDelivery({
      'x-cloudtasks-queuename': 'incoming',
      'x-cloudtasks-taskname': '0123456789',
      'x-cloudtasks-taskretrycount': '4',
      'x-cloudtasks-taskexecutioncount': '2',
      'x-cloudtasks-tasketa': '1795000000.25',
      'x-cloudtasks-taskpreviousresponse': '409',
      'x-cloudtasks-taskretryreason': 'HTTP status code 409',
    });
    expect(d).toEqual({
      queue: 'incoming',
      taskName: '0123456789',
      retryCount: 4,
      executionCount: 2,
      attempt: 3,
      eta: new Date(1795000000250),
      previousResponse: 409,
      retryReason: 'HTTP status code 409',
      path: [],
      warnings: [],
    });
  });

  it('counts the attempt from ExecutionCount: dispatches that got no counted answer spend no budget', () => {
    // Two dispatches refused while the tier restarted (or answered 503), none answered 409.
    expect(readDelivery({ 'x-cloudtasks-taskretrycount': '2', 'x-cloudtasks-taskexecutioncount': '0' }).attempt).toBe(1);
    // Four dispatches, two of them answered 409: the work ran twice and failed twice.
    expect(readDelivery({ 'x-cloudtasks-taskretrycount': '4', 'x-cloudtasks-taskexecutioncount': '2' }).attempt).toBe(3);
  });

  it('falls back to RetryCount only when ExecutionCount is absent', () => {
    expect(readDelivery({ 'x-cloudtasks-taskretrycount': '4' }).attempt).toBe(5);
    expect(readDelivery({ 'x-cloudtasks-taskexecutioncount': '4' }).attempt).toBe(5);
  });

  it('is attempt 1 when both counts are absent', () => {
    expect(readDelivery({}).attempt).toBe(1);
  });

  it.each([
    ['abc'],
    ['-1'],
    ['1.5'],
    ['12abc'],
    ['9999999999999'],
  ])('ignores a malformed ExecutionCount %j with a warning and falls back to RetryCount', (bad) => {
    const d = readDelivery({ 'x-cloudtasks-taskretrycount': '6', 'x-cloudtasks-taskexecutioncount': bad });
    expect(d.executionCount).toBeUndefined();
    expect(d.attempt).toBe(7);
    expect(d.warnings).toEqual([expect.stringContaining('x-cloudtasks-taskexecutioncount')]);
  });

  it('treats both counts malformed as attempt 1, with two warnings', () => {
    const d = readDelivery({ 'x-cloudtasks-taskretrycount': 'x', 'x-cloudtasks-taskexecutioncount': 'y' });
    expect(d.attempt).toBe(1);
    expect(d.warnings).toHaveLength(2);
  });

  it('ignores malformed ETA, previous response, names and tier headers with warnings', () => {
    const d = readDelivery({
      'x-cloudtasks-tasketa': 'yesterday',
      'x-cloudtasks-taskpreviousresponse': 'teapot',
      'x-cloudtasks-queuename': 'bad queue/name',
      'x-cloudtasks-taskname': 'a/b',
      'x-executor-tier': '0',
      'x-executor-path': 'incoming=20,garbage',
      'x-executor-origin': 'no slash',
    });
    expect(d).toMatchObject({ attempt: 1, path: [] });
    expect(d.eta).toBeUndefined();
    expect(d.previousResponse).toBeUndefined();
    expect(d.queue).toBeUndefined();
    expect(d.taskName).toBeUndefined();
    expect(d.tier).toBeUndefined();
    expect(d.origin).toBeUndefined();
    expect(d.warnings).toHaveLength(7);
  });

  it('treats blank headers as absent without warnings', () => {
    const d = readDelivery({ 'x-cloudtasks-taskretrycount': '  ', 'x-cloudtasks-queuename': '' });
    expect(d).toEqual({ attempt: 1, path: [], warnings: [] });
  });

  it('reads the first value of a repeated header', () => {
    expect(readDelivery({ 'x-cloudtasks-taskretrycount': ['2', '7'] }).attempt).toBe(3);
  });

  it('reads the forwarded-tier headers', () => {
    const d = readDelivery({ 'x-executor-tier': '3', 'x-executor-path': 'incoming=20,incoming-2=5', 'x-executor-origin': 'incoming/task-9' });
    expect(d.tier).toBe(3);
    expect(d.path).toEqual([
      { queue: 'incoming', attempts: 20 },
      { queue: 'incoming-2', attempts: 5 },
    ]);
    expect(d.origin).toBe('incoming/task-9');
  });
});

describe('X-Executor-Path', () => {
  it('round-trips', () => {
    const hops = [
      { queue: 'a', attempts: 1 },
      { queue: 'b-2', attempts: 30 },
    ];
    expect(parsePath(formatPath(hops))).toEqual(hops);
  });
  it('rejects anything but queue=attempts pairs', () => {
    expect(parsePath('a=1,b')).toBeUndefined();
    expect(parsePath('a=x')).toBeUndefined();
    expect(parsePath('a b=1')).toBeUndefined();
  });
});
