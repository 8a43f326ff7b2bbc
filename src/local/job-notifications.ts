/**
 * The webhook's notifications by job id: what `GET /notifications?jobId=…` answers and what
 * `executor submit --wait` follows. It keeps the first notification of each job (the one that
 * counts, as in the tally) and how many arrived, for the last {@link JOBS_KEPT} jobs, and lets a
 * request wait until one of the jobs it asks about is notified (a long poll).
 */
import type { RecentNotification } from './recent.js';

/** Jobs whose notifications are kept; older ones are forgotten first. */
export const JOBS_KEPT = 20_000;

/** The longest a request may wait for a notification, in seconds. */
export const MAX_WAIT_SECONDS = 60;

/** One job's notification as the webhook answers it. */
export type JobNotification = RecentNotification & {
  /** The job's id. */
  jobId: string;
  /** Notifications received for the job: more than 1 means duplicates. */
  notifications: number;
};

/** The answer to "what arrived for these jobs". */
export interface JobsAnswer {
  /** The asked jobs that were notified, in the order asked. */
  notifications: JobNotification[];
  /** The asked jobs with no notification yet. */
  pending: string[];
}

interface Waiter {
  ids: ReadonlySet<string>;
  wake: () => void;
}

/** First notification per job, bounded; wakes requests waiting for the jobs they asked about. */
export class JobNotifications {
  private readonly jobs = new Map<string, JobNotification>();
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly kept = JOBS_KEPT) {}

  /** Records a notification that names its job (ones without an id cannot be asked for). */
  add(view: RecentNotification): void {
    const id = view.jobId;
    if (id === undefined || id === '') return;
    const known = this.jobs.get(id);
    if (known !== undefined) {
      known.notifications += 1;
      return;
    }
    this.jobs.set(id, { ...view, jobId: id, notifications: 1 });
    // A Map iterates in insertion order: the first key is the oldest job.
    if (this.jobs.size > this.kept) this.jobs.delete(this.jobs.keys().next().value as string);
    for (const w of this.waiters) if (w.ids.has(id)) w.wake();
  }

  /** What arrived so far for `ids`. */
  find(ids: readonly string[]): JobsAnswer {
    const answer: JobsAnswer = { notifications: [], pending: [] };
    for (const id of ids) {
      const n = this.jobs.get(id);
      if (n !== undefined) answer.notifications.push({ ...n });
      else answer.pending.push(id);
    }
    return answer;
  }

  /**
   * Like {@link find}, but when none of `ids` is notified yet, first waits until one is, `waitMs`
   * passes, or `signal` aborts (the client went away, the webhook is closing).
   */
  async wait(ids: readonly string[], waitMs: number, signal?: AbortSignal): Promise<JobsAnswer> {
    const now = this.find(ids);
    if (now.notifications.length > 0 || ids.length === 0 || waitMs <= 0 || signal?.aborted === true) return now;
    await new Promise<void>((resolve) => {
      const waiter: Waiter = { ids: new Set(ids), wake: () => finish() };
      const timer = setTimeout(() => finish(), waitMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', finish, { once: true });
    });
    return this.find(ids);
  }

  /** Ends every wait at once (the webhook is closing). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w.wake();
  }
}
