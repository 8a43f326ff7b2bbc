/**
 * gcloud's queue configuration flags (`gcloud tasks queues create/update`) as a Queue resource and
 * the update mask naming what they set: a `--clear-…` flag lists its field without a value, which
 * UpdateQueue resets to the default. Pure.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Queue } from '../queues/queue-admin.js';
import type { Flags } from './args.js';
import { parseDurationSeconds, toDuration } from './duration.js';

type Kind = 'attempts' | 'duration' | 'count' | 'rate';

/** Each flag: the field it sets (update-mask path), its value's kind and its help line. */
const FIELDS = {
  'max-attempts': { path: 'retry_config.max_attempts', kind: 'attempts', help: 'attempts per task, -1 for unlimited (default 100)' },
  'max-retry-duration': { path: 'retry_config.max_retry_duration', kind: 'duration', help: 'give up retrying after this long, e.g. 1h (default 0s: no limit)' },
  'min-backoff': { path: 'retry_config.min_backoff', kind: 'duration', help: 'first retry delay, e.g. 10s (default 0.1s)' },
  'max-backoff': { path: 'retry_config.max_backoff', kind: 'duration', help: 'longest retry delay, e.g. 5m (default 3600s)' },
  'max-doublings': { path: 'retry_config.max_doublings', kind: 'count', help: 'times the delay doubles before growing linearly (default 16)' },
  'max-dispatches-per-second': { path: 'rate_limits.max_dispatches_per_second', kind: 'rate', help: 'dispatch rate limit (default 500)' },
  'max-concurrent-dispatches': { path: 'rate_limits.max_concurrent_dispatches', kind: 'count', help: 'tasks in flight at once (default 1000)' },
} as const satisfies Record<string, { path: string; kind: Kind; help: string }>;

type FieldFlag = keyof typeof FIELDS;
const FIELD_FLAGS = Object.keys(FIELDS) as FieldFlag[];

/** parseArgs options of the configuration flags (with `--clear-…` ones for update). */
export function queueConfigOptions(withClear: boolean): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const flag of FIELD_FLAGS) {
    options[flag] = { type: 'string' };
    if (withClear) options[`clear-${flag}`] = { type: 'boolean' };
  }
  return options;
}

/** Whether any configuration or `--clear-…` flag was given (valid or not). */
export function configFlagsGiven(flags: Flags): boolean {
  return FIELD_FLAGS.some((flag) => flags[flag] !== undefined || flags[`clear-${flag}`] !== undefined);
}

/** Help lines of the configuration flags. */
export function queueConfigHelp(withClear: boolean): string {
  const lines = FIELD_FLAGS.map((flag) => `  --${`${flag} V`.padEnd(30)} ${FIELDS[flag].help}`);
  if (withClear) lines.push(`  --clear-FLAG                     reset that setting to its default (e.g. --clear-max-attempts)`);
  return lines.join('\n');
}

/** The value of one flag, or a problem. */
function valueOf(flag: FieldFlag, text: string, problems: string[]): number | undefined {
  const kind: Kind = FIELDS[flag].kind;
  if (kind === 'duration') {
    const seconds = parseDurationSeconds(text);
    if (seconds === undefined) problems.push(`--${flag} must be a duration like 10s, 5m, 1h or 1h30m, got '${text}'`);
    return seconds;
  }
  const n = Number(text.trim());
  const ok = text.trim() !== '' && Number.isFinite(n) && (kind === 'rate' ? n > 0 : Number.isInteger(n) && (kind === 'attempts' ? n >= -1 && n !== 0 : n >= 0));
  if (!ok) {
    problems.push(
      kind === 'attempts'
        ? `--${flag} must be a positive integer or -1 (unlimited), got '${text}'`
        : kind === 'rate'
          ? `--${flag} must be a number greater than 0, got '${text}'`
          : `--${flag} must be a non-negative integer, got '${text}'`,
    );
    return undefined;
  }
  return n;
}

/** Sets `path` (snake_case, two segments) on the resource in the API's camelCase. */
function setField(queue: Queue, path: string, kind: Kind, value: number): void {
  const [group, field] = path.split('.') as [string, string];
  const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const target = ((queue as Record<string, Record<string, unknown>>)[camel(group)] ??= {});
  target[camel(field)] = kind === 'duration' ? toDuration(value) : value;
}

/**
 * The Queue fields and update-mask paths of the configuration flags given. Problems (a bad value,
 * a flag set and cleared at once) are pushed.
 */
export function queueConfigFromFlags(flags: Flags, problems: string[]): { queue: Queue; paths: string[] } {
  const queue: Queue = {};
  const paths: string[] = [];
  for (const flag of FIELD_FLAGS) {
    const { path, kind } = FIELDS[flag];
    const text = flags[flag];
    const clear = flags[`clear-${flag}`] === true;
    if (typeof text === 'string' && clear) {
      problems.push(`--${flag} and --clear-${flag} contradict each other: give one`);
      continue;
    }
    if (clear) {
      paths.push(path);
      continue;
    }
    if (typeof text !== 'string') continue;
    const value = valueOf(flag, text, problems);
    if (value === undefined) continue;
    setField(queue, path, kind, value);
    paths.push(path);
  }
  return { queue, paths };
}
