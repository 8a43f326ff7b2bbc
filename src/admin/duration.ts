/**
 * gcloud's duration flags (`--min-backoff 10s`, `--max-retry-duration 1h30m`): a sequence of
 * number+unit (d, h, m, s, ms), or a bare number of seconds. Pure.
 */
import type { protos } from '@google-cloud/tasks';

type Duration = protos.google.protobuf.IDuration;

const UNIT_SECONDS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1, ms: 0.001 };
const PART = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/gy;

/** Seconds in `text`, or undefined when it is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === '') return undefined;
  PART.lastIndex = 0;
  let seconds = 0;
  let end = 0;
  for (let m = PART.exec(t); m !== null; m = PART.exec(t)) {
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    end = PART.lastIndex;
  }
  return end === t.length ? seconds : undefined;
}

/** A protobuf Duration of `seconds` (nanosecond precision). */
export function toDuration(seconds: number): Duration {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

/** A Duration as gcloud prints it ("10s", "0.100s"), or '' when unset. */
export function formatDuration(d: Duration | null | undefined): string {
  if (d === null || d === undefined) return '';
  const seconds = Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3)}s`;
}
