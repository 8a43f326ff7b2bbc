import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationSeconds, toDuration } from '../../src/admin/duration.js';
import { plain, renderList, renderTable } from '../../src/admin/format.js';
import { queueConfigFromFlags } from '../../src/admin/queue-config-flags.js';
import { parseQueuesArgs } from '../../src/admin/queues-cli.js';
import { parseTasksArgs } from '../../src/admin/tasks-cli.js';
import { ConfigError } from '../../src/errors.js';

const EMU = { CLOUD_TASKS_EMULATOR_HOST: '127.0.0.1:8123' };
const Q = 'projects/local-project/locations/us-central1/queues';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('ADMIN_ARGS_INVALID');
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a usage error');
}

describe('gcloud durations', () => {
  it.each([
    ['10s', 10],
    ['5m', 300],
    ['1h30m', 5400],
    ['1d', 86_400],
    ['0.5s', 0.5],
    ['100ms', 0.1],
    ['42', 42],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', 'ten seconds', '5x', '1h 30m', '-5s', 's'])('refuses %j', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });

  it('builds and prints protobuf durations', () => {
    expect(toDuration(1.5)).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(formatDuration({ seconds: 10, nanos: 0 })).toBe('10s');
    expect(formatDuration({ seconds: 0, nanos: 100_000_000 })).toBe('0.100s');
    expect(formatDuration(undefined)).toBe('');
  });
});

describe('queue configuration flags', () => {
  it('sets each field and names it in the update mask', () => {
    const problems: string[] = [];
    const { queue, paths } = queueConfigFromFlags(
      { 'max-attempts': '-1', 'min-backoff': '10s', 'max-backoff': '5m', 'max-doublings': '4', 'max-dispatches-per-second': '2.5', 'max-concurrent-dispatches': '7', 'max-retry-duration': '1h' },
      problems,
    );
    expect(problems).toEqual([]);
    expect(queue).toEqual({
      retryConfig: { maxAttempts: -1, minBackoff: { seconds: 10, nanos: 0 }, maxBackoff: { seconds: 300, nanos: 0 }, maxDoublings: 4, maxRetryDuration: { seconds: 3600, nanos: 0 } },
      rateLimits: { maxDispatchesPerSecond: 2.5, maxConcurrentDispatches: 7 },
    });
    expect(paths.sort()).toEqual(
      ['rate_limits.max_concurrent_dispatches', 'rate_limits.max_dispatches_per_second', 'retry_config.max_attempts', 'retry_config.max_backoff', 'retry_config.max_doublings', 'retry_config.max_retry_duration', 'retry_config.min_backoff'].sort(),
    );
  });

  it('clears a field by naming it without a value', () => {
    const problems: string[] = [];
    expect(queueConfigFromFlags({ 'clear-max-attempts': true }, problems)).toEqual({ queue: {}, paths: ['retry_config.max_attempts'] });
  });

  it('names the flag, the value and what is expected for each bad value, all at once', () => {
    const problems: string[] = [];
    queueConfigFromFlags({ 'max-attempts': '0', 'min-backoff': 'soon', 'max-dispatches-per-second': '-1', 'max-doublings': '1.5', 'max-backoff': '1s', 'clear-max-backoff': true }, problems);
    expect(problems).toEqual([
      "--max-attempts must be a positive integer or -1 (unlimited), got '0'",
      "--min-backoff must be a duration like 10s, 5m, 1h or 1h30m, got 'soon'",
      '--max-backoff and --clear-max-backoff contradict each other: give one',
      "--max-doublings must be a non-negative integer, got '1.5'",
      "--max-dispatches-per-second must be a number greater than 0, got '-1'",
    ]);
  });
});

describe('executor queues command lines', () => {
  it('defaults to the local stack project and location on an emulator', () => {
    expect(parseQueuesArgs(['list'], EMU)).toMatchObject({ verb: 'list', parent: 'projects/local-project/locations/us-central1', limit: 1000, target: { emulatorHost: '127.0.0.1:8123', format: 'table' } });
    expect(parseQueuesArgs(['describe', 'incoming', '--format', 'json'], EMU)).toMatchObject({ verb: 'describe', name: `${Q}/incoming`, target: { format: 'json' } });
  });

  it('goes to Google when no emulator is named, and then needs a project and location', () => {
    expect(problemsOf(() => parseQueuesArgs(['list'], {}))[0]).toMatch(/--project and --location/);
    expect(parseQueuesArgs(['describe', 'q', '--project', 'p', '--location', 'europe-west1'], {})).toMatchObject({ name: 'projects/p/locations/europe-west1/queues/q', target: { format: 'table' } });
    expect((parseQueuesArgs(['describe', 'q', '--project', 'p', '--location', 'l'], {}) as { target: object }).target).not.toHaveProperty('emulatorHost');
  });

  it('carries the configuration of create and update with their mask', () => {
    expect(parseQueuesArgs(['create', 'slow', '--max-attempts', '5', '--max-dispatches-per-second', '1'], EMU)).toMatchObject({
      verb: 'create',
      queue: { name: `${Q}/slow`, retryConfig: { maxAttempts: 5 }, rateLimits: { maxDispatchesPerSecond: 1 } },
    });
    expect(parseQueuesArgs(['update', 'slow', '--clear-max-attempts'], EMU)).toMatchObject({ verb: 'update', paths: ['retry_config.max_attempts'] });
  });

  it('refuses a misspelled command with the nearest one, and a misspelled flag likewise', () => {
    expect(problemsOf(() => parseQueuesArgs(['lst'], EMU))[0]).toMatch(/unknown command 'lst' \(did you mean list\?\)/);
    expect(problemsOf(() => parseQueuesArgs(['list', '--projet', 'p'], EMU))[0]).toMatch(/did you mean --project\?/);
  });

  it('reports every problem of a command line in one error', () => {
    const problems = problemsOf(() => parseQueuesArgs(['update', 'bad_name!', '--format', 'xml', '--limit', '3'], EMU));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/--format must be one of table, json, yaml, name/),
        expect.stringMatching(/update needs at least one configuration/),
        expect.stringMatching(/--limit applies to list/),
        expect.stringMatching(/QUEUE must be a queue id/),
      ]),
    );
  });

  it('refuses configuration flags where they do nothing', () => {
    expect(problemsOf(() => parseQueuesArgs(['pause', 'q', '--max-attempts', '3'], EMU))).toEqual(['queue configuration flags apply to create and update, not pause']);
    expect(problemsOf(() => parseQueuesArgs(['create', 'q', '--clear-max-attempts'], EMU))).toEqual(['--clear-… flags apply to update: a new queue starts with the defaults']);
  });

  it('asks for help with --help, help or no command', () => {
    for (const argv of [['--help'], ['help'], [], ['list', '-h']]) expect(parseQueuesArgs(argv, EMU)).toEqual({ verb: 'help' });
  });
});

describe('executor tasks command lines', () => {
  it('names a task by id with --queue, or by its full path', () => {
    expect(parseTasksArgs(['describe', 't1', '--queue', 'incoming'], EMU)).toMatchObject({ name: `${Q}/incoming/tasks/t1`, view: 'BASIC' });
    expect(parseTasksArgs(['run', `${Q}/incoming/tasks/t1`], EMU)).toMatchObject({ verb: 'run', name: `${Q}/incoming/tasks/t1` });
    expect(parseTasksArgs(['list', '--queue', 'incoming', '--response-view', 'full', '--limit', '5'], EMU)).toMatchObject({ verb: 'list', queue: `${Q}/incoming`, limit: 5, view: 'FULL' });
  });

  it('needs the queue of a task id, and the task of describe', () => {
    expect(problemsOf(() => parseTasksArgs(['describe', 't1'], EMU))).toEqual([expect.stringMatching(/--queue is required/)]);
    expect(problemsOf(() => parseTasksArgs(['describe', '--queue', 'incoming'], EMU))).toEqual([expect.stringMatching(/TASK is required/)]);
    expect(problemsOf(() => parseTasksArgs(['delete', 'a/b'], EMU))[0]).toMatch(/TASK must be a task id/);
  });
});

describe('output', () => {
  it('pads table columns to the widest cell under their headings', () => {
    const cols = [
      { heading: 'NAME', value: (r: { name: string; n: number }) => r.name },
      { heading: 'N', value: (r: { name: string; n: number }) => String(r.n) },
    ];
    expect(renderTable(cols, [{ name: 'incoming', n: 1 }, { name: 'x', n: 22 }])).toBe('NAME      N\nincoming  1\nx         22\n');
  });

  it('prints names one per line, and says so when a list is empty', () => {
    expect(renderList('name', [], [{ name: 'a' }, { name: 'b' }], 'none')).toBe('a\nb\n');
    expect(renderList('table', [], [], 'Listed 0 queues.')).toBe('Listed 0 queues.\n');
    expect(renderList('json', [], [], '')).toBe('[]\n');
  });

  it('turns protobuf values into plain JSON (Longs as numbers, bytes as base64, nulls dropped)', () => {
    const long = { low: 5, high: 0, unsigned: false, toNumber: () => 5 };
    expect(plain({ a: long, b: Buffer.from('hi'), c: null, d: [{ e: undefined, f: 'x' }] })).toEqual({ a: 5, b: 'aGk=', d: [{ f: 'x' }] });
  });
});
