/**
 * The values of `gcloud tasks create-http-task`'s flags that `executor submit` takes too, parsed
 * purely: `--header KEY:VALUE` (repeatable) and `--schedule-time` (RFC 3339, or relative `+30s`).
 */

/** The HTTP token a header name must be (RFC 9110). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers Cloud Tasks sets itself on every push, replacing whatever a task says: refused here so a
 * task never looks as if it carried them. The executor counts attempts from X-CloudTasks-*.
 */
const SET_BY_CLOUD_TASKS = [/^x-cloudtasks-/i, /^x-appengine-/i, /^x-google-/i, /^host$/i, /^content-length$/i, /^user-agent$/i];

/** Cloud Tasks refuses a schedule time further ahead than this (30 days). */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600 * 1000;

/**
 * Parses `--header` values (`KEY:VALUE`, as gcloud spells them; the value may hold colons and
 * commas) into a record. Pushes one problem per bad value; a header given twice is a problem too
 * (names compare case-insensitively, as HTTP does).
 */
export function parseHeaders(values: readonly string[], problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const name = colon < 0 ? raw.trim() : raw.slice(0, colon).trim();
    const value = colon < 0 ? '' : raw.slice(colon + 1).trim();
    if (colon < 0 || !HEADER_NAME.test(name)) {
      problems.push(`--header must be KEY:VALUE with an HTTP header name as KEY (e.g. --header 'X-Trace:abc'), got '${raw}'`);
      continue;
    }
    if (SET_BY_CLOUD_TASKS.some((r) => r.test(name))) {
      problems.push(`--header ${name}: Cloud Tasks sets this header on every push itself and replaces the task's value`);
      continue;
    }
    if (/[\r\n]/.test(value)) {
      problems.push(`--header ${name}: the value must not contain line breaks`);
      continue;
    }
    const key = name.toLowerCase();
    if (seen.has(key)) {
      problems.push(`--header ${name} is given twice: give each header once`);
      continue;
    }
    seen.add(key);
    headers[name] = value;
  }
  return headers;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const RELATIVE = /^\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses `--schedule-time`: an RFC 3339 timestamp with a zone (`2026-12-04T10:00:00Z`,
 * `…+01:00`), or a delay from `now` such as `+30s`, `+5m`, `+1h30m`, `+1d`. Returns epoch ms, or
 * pushes a problem and returns undefined. Past times are allowed (Cloud Tasks dispatches them at
 * once); more than 30 days ahead is refused, as Cloud Tasks does.
 */
export function parseScheduleTime(value: string, now: number, problems: string[]): number | undefined {
  const v = value.trim();
  let at: number | undefined;
  const rel = RELATIVE.exec(v);
  if (rel !== null && v !== '+') {
    const [d, h, m, s] = rel.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
    at = now + (((d * 24 + h) * 60 + m) * 60 + s) * 1000;
  } else if (RFC3339.test(v)) {
    // Date.parse reads milliseconds at most; finer digits are dropped rather than refused.
    const ms = Date.parse(v.replace(/(\.\d{3})\d+/, '$1').replace(' ', 'T'));
    if (!Number.isNaN(ms)) at = ms;
  }
  if (at === undefined) {
    problems.push(`--schedule-time must be an RFC 3339 time with a zone (e.g. 2026-12-04T10:00:00Z) or a delay like +30s, +5m, +1h30m, +1d; got '${value}'`);
    return undefined;
  }
  if (at - now > MAX_SCHEDULE_AHEAD_MS) {
    problems.push(`--schedule-time '${value}' is more than 30 days ahead: Cloud Tasks refuses that`);
    return undefined;
  }
  return at;
}
