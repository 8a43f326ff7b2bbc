/**
 * A reader for the Prometheus text exposition format, enough to read an executor's own `/metrics`
 * (counters with labels). The local stack's progress comes from these real signals rather than from
 * a parallel set of counters that could disagree with them.
 */

/** One sample line. */
export interface Sample {
  /** Metric name, e.g. `executor_deliveries_total`. */
  name: string;
  /** Label values. */
  labels: Record<string, string>;
  /** The value. */
  value: number;
}

const LINE_RE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_RE = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses exposition text into samples; comment and malformed lines are skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE_RE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(LABEL_RE)) labels[lm[1]!] = unescape(lm[2]!);
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** Sums the samples of one metric whose labels match every given label. */
export function sum(samples: readonly Sample[], name: string, match: Record<string, string | readonly string[]> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    let ok = true;
    for (const [k, want] of Object.entries(match)) {
      const have = s.labels[k];
      if (have === undefined || (typeof want === 'string' ? have !== want : !want.includes(have))) {
        ok = false;
        break;
      }
    }
    if (ok) total += s.value;
  }
  return total;
}
