/**
 * What `executor dev` shows while the batch runs and when it is done: per tier, deliveries,
 * retries and forwards read from the tier's own Prometheus registry; notifications from the
 * webhook's counts. Formatting is pure; {@link ProgressLine} owns the terminal.
 */
import { RETRY_STATUS } from '../executor/decide.js';
import type { ExecutorMetrics } from '../executor/metrics.js';
import type { Reconciliation, TallyCounts } from './tally.js';

/** One tier's counters. */
export interface TierCounters {
  /** Pushes answered. */
  delivered: number;
  /** Pushes answered with the executor's retry status (failed, budget left). */
  retried: number;
  /** Tasks forwarded to the next tier (created; a redone handoff that found its task is not counted twice). */
  forwarded: number;
  /** Success notifications enqueued. */
  notifiedSucceeded: number;
  /** Failure notifications enqueued. */
  notifiedFailed: number;
  /** Pushes rejected by inbound auth (should stay 0: the emulator signs every push). */
  authRejected: number;
}

/** One counter's samples, as prom-client's `get()` returns them. */
type Samples = readonly { labels: Partial<Record<string, string | number>>; value: number }[];

/** The samples of the executor counters the local stack shows. */
export interface TierSamples {
  deliveries: Samples;
  handoffs: Samples;
  authRejections: Samples;
}

/** Reads a tier's counters straight from its metrics registry (prom-client's own API). */
export async function readTierCounters(metrics: ExecutorMetrics): Promise<TierCounters> {
  const [deliveries, handoffs, authRejections] = await Promise.all([metrics.deliveries.get(), metrics.handoffs.get(), metrics.authRejections.get()]);
  return tierCountersFrom({ deliveries: deliveries.values, handoffs: handoffs.values, authRejections: authRejections.values });
}

/** Sums the samples whose labels have every given value. */
function sum(samples: Samples, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) if (Object.entries(match).every(([k, v]) => String(s.labels[k]) === v)) total += s.value;
  return total;
}

/** Maps the executor's metrics (src/executor/metrics.ts) onto the counters the local stack shows. */
export function tierCountersFrom(m: TierSamples): TierCounters {
  return {
    delivered: sum(m.deliveries),
    retried: sum(m.deliveries, { status: String(RETRY_STATUS) }),
    // `exists` is a duplicate delivery's handoff finding its task already there: still one handoff.
    forwarded: sum(m.handoffs, { kind: 'forward', result: 'created' }),
    notifiedSucceeded: sum(m.handoffs, { kind: 'notify-success', result: 'created' }),
    notifiedFailed: sum(m.handoffs, { kind: 'notify-failure', result: 'created' }),
    authRejected: sum(m.authRejections),
  };
}

/** Everything one progress line shows. */
export interface ProgressState {
  /** Jobs submitted so far, and in all. */
  submitted: number;
  /** Jobs in the batch. */
  jobs: number;
  /** Per tier, tier 1 first. */
  tiers: readonly TierCounters[];
  /** The webhook's counts. */
  webhook: TallyCounts;
  /** Seconds since the batch started; left out once the batch is done. */
  seconds?: number;
  /** The Pub/Sub path: jobs published (of how many) and distinct outcomes received from the results topic. */
  pubsub?: { published: number; jobs: number; results: number };
}

/** One line: `submitted 300/300 │ tier 1: … │ tier 2: … │ webhook: … │ 4.2s`. */
export function formatProgress(s: ProgressState): string {
  // Auth rejections show as they happen: a push the tier refuses is retried by the queue forever
  // (the job never reaches the work), so waiting for the summary would hide why nothing moves.
  const tiers = s.tiers.map(
    (t, i) =>
      `tier ${i + 1}: ${t.delivered} delivered, ${t.retried} retried${i < s.tiers.length - 1 ? `, ${t.forwarded} forwarded` : ''}${t.authRejected > 0 ? `, ${t.authRejected} refused (auth)` : ''}`,
  );
  const w = s.webhook;
  const extra = [w.duplicates > 0 ? `${w.duplicates} duplicate` : '', w.undecodable > 0 ? `${w.undecodable} undecodable` : ''].filter((x) => x !== '');
  return [
    `submitted ${s.submitted}/${s.jobs}`,
    ...tiers,
    `notified: ${w.succeeded} succeeded, ${w.failed} failed${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
    ...(s.pubsub !== undefined ? [`pubsub: published ${s.pubsub.published}/${s.pubsub.jobs}, ${s.pubsub.results} results`] : []),
    ...(s.seconds !== undefined ? [`${s.seconds.toFixed(1)}s`] : []),
  ].join(' │ ');
}

/** The summary `executor dev` prints (and, with --json, writes as one JSON object). */
export interface Summary extends Omit<Reconciliation, 'lostSample' | 'wrongSample'> {
  /** True when every job got exactly one notification with the expected outcome. */
  ok: boolean;
  /** Seconds from the first submission to the last job accounted for (or the timeout). */
  seconds: number;
  /** Whether the wait ended by --timeout. */
  timedOut: boolean;
  /** Invalid jobs in the batch. */
  invalid: number;
  /** Per tier counters. */
  tiers: Array<TierCounters & { tier: number; maxAttempts: number }>;
  /** The emulator's view: tasks given up after retry limits must be 0. */
  emulator: { address: string; created: number; dispatched: number; dropped: number };
  /** A few ids to investigate, when something is off (`wrongOutcome`: wrong outcome or tier). */
  samples?: { lost?: string[]; wrongOutcome?: string[] };
  /** The Pub/Sub path and the results topic (which carries the outcomes of both paths' jobs). */
  pubsub: PubSubSummary;
}

/** How the Pub/Sub path fared. */
export interface PubSubSummary {
  /** Jobs published to the jobs topic. */
  jobs: number;
  /** Invalid ones among them. */
  invalid: number;
  /**
   * The results topic reconciled with every job of both paths (Cloud Tasks and Pub/Sub): each must
   * have exactly one outcome event with the expected outcome and tier.
   */
  results: Omit<Reconciliation, 'lostSample' | 'wrongSample'>;
  /** Outcome messages whose eventId had been received already (a redelivered push published again): deduplicated, not an error. */
  redelivered: number;
  /** Outcome messages that were no notification, or dead-letter outcomes (must be 0). */
  undecodable: number;
  deadLetterOutcomes: number;
  /** Messages Pub/Sub moved to a dead-letter topic (must be 0: the budget forwards and acks first). */
  deadLettered: number;
  /** Lost job ids on the results topic, to investigate. */
  lostSample?: string[];
}

/** Whether a reconciliation and the emulator say the run was perfect. */
export function isPerfect(r: Reconciliation, dropped: number): boolean {
  return r.lost === 0 && r.duplicates === 0 && r.wrongOutcome === 0 && r.wrongTier === 0 && dropped === 0 && r.succeeded + r.failed === r.jobs;
}

/** Whether the Pub/Sub path and the results topic say the run was perfect. */
export function isPubSubPerfect(p: PubSubSummary): boolean {
  const r = p.results;
  return r.lost === 0 && r.duplicates === 0 && r.wrongOutcome === 0 && r.wrongTier === 0 && r.unexpected === 0 && r.succeeded + r.failed === r.jobs && p.undecodable === 0 && p.deadLetterOutcomes === 0 && p.deadLettered === 0;
}

/** The human summary, several lines. */
export function formatSummary(s: Summary): string {
  const lines = [
    `${s.timedOut ? 'Timed out' : 'Done'} after ${s.seconds.toFixed(1)} s: ${s.jobs} jobs (${s.invalid} invalid) — ${s.succeeded} succeeded, ${s.failed} failed, ${s.lost} lost, ${s.duplicates} duplicates${s.wrongOutcome > 0 ? `, ${s.wrongOutcome} with the wrong outcome` : ''}${s.wrongTier > 0 ? `, ${s.wrongTier} notified by the wrong tier` : ''}`,
    ...s.tiers.map(
      (t) =>
        `  tier ${t.tier} (MAX_ATTEMPTS ${t.maxAttempts}): ${t.delivered} delivered, ${t.retried} retried, ${t.forwarded} forwarded, ${t.notifiedSucceeded} success and ${t.notifiedFailed} failure notifications${t.authRejected > 0 ? `, ${t.authRejected} auth rejections` : ''}`,
    ),
    `  emulator: ${s.emulator.created} tasks created, ${s.emulator.dispatched} dispatches, ${s.emulator.dropped} dropped`,
  ];
  const p = s.pubsub;
  const r = p.results;
  lines.push(
    `  pubsub: ${p.jobs} jobs (${p.invalid} invalid) published to 'jobs'; results topic: ${r.succeeded + r.failed}/${r.jobs} jobs of both paths accounted for — ${r.succeeded} succeeded, ${r.failed} failed, ${r.lost} lost, ${r.duplicates} duplicates${r.wrongOutcome > 0 ? `, ${r.wrongOutcome} with the wrong outcome` : ''}${r.wrongTier > 0 ? `, ${r.wrongTier} from the wrong tier` : ''}; ${p.redelivered} redelivered events deduplicated, ${p.deadLettered} dead-lettered${p.undecodable + p.deadLetterOutcomes > 0 ? `, ${p.undecodable} undecodable, ${p.deadLetterOutcomes} dead-letter outcomes` : ''}`,
  );
  if (p.lostSample !== undefined && p.lostSample.length > 0) lines.push(`  lost on the results topic, e.g.: ${p.lostSample.join(', ')}`);
  if (s.unexpected > 0) lines.push(`  ${s.unexpected} notifications for jobs not in this batch`);
  if (s.samples?.lost !== undefined && s.samples.lost.length > 0) lines.push(`  lost, e.g.: ${s.samples.lost.join(', ')}`);
  if (s.samples?.wrongOutcome !== undefined && s.samples.wrongOutcome.length > 0) lines.push(`  wrong outcome or tier, e.g.: ${s.samples.wrongOutcome.join(', ')}`);
  lines.push(
    s.ok
      ? 'Every job got exactly one notification (and one outcome event) with the expected outcome.'
      : 'NOT every job got exactly one notification (and one outcome event) with the expected outcome.',
  );
  return lines.join('\n');
}

/**
 * A status line on a stream: on a terminal it is rewritten in place; elsewhere (CI, pipes) a plain
 * line is written at most every `plainEveryMs`, and only when it changed.
 */
export class ProgressLine {
  private last = '';
  private lastPlainAt = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly plainEveryMs = 2000,
  ) {}

  /** Shows `line` (force: print it even off a terminal within the interval). */
  update(line: string, force = false): void {
    if (this.stream.isTTY === true) {
      if (this.shown && line === this.last) return;
      this.last = line;
      const width = this.stream.columns ?? 0;
      const fitted = width > 1 && line.length >= width ? `${line.slice(0, width - 2)}…` : line;
      this.stream.write(`\r\x1b[2K${fitted}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (line === this.last || (!force && now - this.lastPlainAt < this.plainEveryMs)) return;
    this.stream.write(`${line}\n`);
    this.last = line;
    this.lastPlainAt = now;
  }

  /** Ends the line so following output starts on a fresh one. */
  done(): void {
    if (this.shown && this.stream.isTTY === true) this.stream.write('\n');
    this.shown = false;
    this.last = '';
  }
}
