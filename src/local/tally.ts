/**
 * Counts terminal notifications per job, so the local stack can say — from what actually arrived at
 * the webhook — how many jobs succeeded, failed, were notified twice, or never got an answer.
 */

/** The terminal outcome a notification reports. */
export type Outcome = 'succeeded' | 'failed';

/** What the tally keeps of one notification. */
export interface TalliedNotification {
  /** The job's context id; undefined when the notification carried none. */
  jobId?: string;
  /** Success or failure. */
  outcome: Outcome;
  /** Tier that sent it, when the notification said. */
  tier?: number;
}

/** Counts so far; `duplicates` counts notifications beyond the first for a job. */
export interface TallyCounts {
  /** Notifications received (decodable ones). */
  notifications: number;
  /** Jobs whose first notification was a success. */
  succeeded: number;
  /** Jobs whose first notification was a failure. */
  failed: number;
  /** Extra notifications for jobs already notified. */
  duplicates: number;
  /** Notifications that named no job id. */
  withoutId: number;
  /** Bodies that could not be decoded as a notification. */
  undecodable: number;
  /** Dead-letter tasks delivered to the webhook's dead-letter path. */
  deadLetters: number;
}

/** Per-job record: every outcome received, in arrival order. */
export interface JobRecord {
  /** Outcomes in arrival order; more than one means duplicates. */
  outcomes: Outcome[];
  /** Tier of the first notification, when it said. */
  tier?: number;
}

/** How a set of expected jobs fared against the notifications received. */
export interface Reconciliation {
  /** Expected jobs. */
  jobs: number;
  /** Expected jobs with a success as their (first) notification. */
  succeeded: number;
  /** Expected jobs with a failure as their (first) notification. */
  failed: number;
  /** Expected jobs without any notification. */
  lost: number;
  /** Extra notifications for expected jobs. */
  duplicates: number;
  /** Expected jobs whose outcome differs from the expected one. */
  wrongOutcome: number;
  /**
   * Expected jobs whose notification names a tier other than the expected one (only notifications
   * that say their tier — the JSON envelope's — can be checked).
   */
  wrongTier: number;
  /** Notifications for job ids that were not expected (or named none). */
  unexpected: number;
  /** Up to 10 ids of lost jobs, to investigate. */
  lostSample: string[];
  /** Up to 10 ids of jobs with the wrong outcome or tier. */
  wrongSample: string[];
}

/** Accumulates notifications; cheap to read while the batch is running. */
export class Tally {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly counts: TallyCounts = {
    notifications: 0,
    succeeded: 0,
    failed: 0,
    duplicates: 0,
    withoutId: 0,
    undecodable: 0,
    deadLetters: 0,
  };

  /** Records one decoded notification. */
  record(n: TalliedNotification): void {
    this.counts.notifications += 1;
    if (n.jobId === undefined || n.jobId === '') {
      this.counts.withoutId += 1;
      return;
    }
    const existing = this.jobs.get(n.jobId);
    if (existing !== undefined) {
      existing.outcomes.push(n.outcome);
      this.counts.duplicates += 1;
      return;
    }
    this.jobs.set(n.jobId, { outcomes: [n.outcome], ...(n.tier !== undefined ? { tier: n.tier } : {}) });
    this.counts[n.outcome] += 1;
  }

  /** Records a body that was not a notification. */
  recordUndecodable(): void {
    this.counts.undecodable += 1;
  }

  /** Records a dead-letter delivery. */
  recordDeadLetter(): void {
    this.counts.deadLetters += 1;
  }

  /** A snapshot of the counters. */
  snapshot(): TallyCounts {
    return { ...this.counts };
  }

  /** What arrived for one job, if anything. */
  job(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  /** Number of distinct jobs notified so far. */
  get jobsNotified(): number {
    return this.jobs.size;
  }

  /** Whether every expected job has at least one notification. */
  allNotified(expected: Iterable<string>): boolean {
    for (const id of expected) if (!this.jobs.has(id)) return false;
    return true;
  }

  /**
   * Compares the notifications with the jobs that were submitted and the outcome each should have
   * (and, with `expectedTier`, the tier that should send it). Pure over the current state: call it
   * again later to see late duplicates.
   */
  reconcile(expected: ReadonlyMap<string, Outcome>, expectedTier?: (outcome: Outcome) => number): Reconciliation {
    const r: Reconciliation = {
      jobs: expected.size,
      succeeded: 0,
      failed: 0,
      lost: 0,
      duplicates: 0,
      wrongOutcome: 0,
      wrongTier: 0,
      unexpected: this.counts.withoutId,
      lostSample: [],
      wrongSample: [],
    };
    for (const [id, want] of expected) {
      const rec = this.jobs.get(id);
      if (rec === undefined) {
        r.lost += 1;
        if (r.lostSample.length < 10) r.lostSample.push(id);
        continue;
      }
      const [first] = rec.outcomes;
      if (first === 'succeeded') r.succeeded += 1;
      else r.failed += 1;
      r.duplicates += rec.outcomes.length - 1;
      if (rec.outcomes.some((o) => o !== want)) {
        r.wrongOutcome += 1;
        if (r.wrongSample.length < 10) r.wrongSample.push(id);
      } else if (expectedTier !== undefined && rec.tier !== undefined && rec.tier !== expectedTier(want)) {
        r.wrongTier += 1;
        if (r.wrongSample.length < 10) r.wrongSample.push(id);
      }
    }
    for (const [id, rec] of this.jobs) if (!expected.has(id)) r.unexpected += rec.outcomes.length;
    return r;
  }
}
