/**
 * What a host such as `executor dev` tells the dashboard about the system around the emulator:
 * the executor tiers and their queues, the notifier and dead-letter queues, and the webhook's last
 * notifications. Plain data and callbacks: the emulator never imports the executor's stack.
 */

/** One executor tier of the chain. */
export interface ChainTier {
  /** 1 = first. */
  tier: number;
  /** Full name of the queue that pushes to it. */
  queue: string;
  /** The tier's URL (the target of its queue's tasks; redriven dead letters go here for tier 1). */
  url: string;
  /** Its MAX_ATTEMPTS. */
  maxAttempts: number;
}

/** A notification as the webhook received it. */
export interface NotificationView {
  /** When it arrived, epoch ms. */
  receivedAt: number;
  /** The job's id, when the notification carried one. */
  jobId?: string;
  /** How the job ended. */
  outcome: 'succeeded' | 'failed';
  /** Its encoding (proto-binary, proto-json, envelope). */
  format: string;
  /** Tier that sent it, when said. */
  tier?: number;
  /** Attempts across tiers, when said. */
  attempts?: number;
  /** The failure, on failure. */
  error?: string;
  /** The body as text: the JSON as received, or the decoded binary message as JSON. */
  body: string;
}

/** The chain the dashboard draws above the queues. */
export interface ChainView {
  /** Tier 1 first. */
  tiers: ChainTier[];
  /** Full name of the notifier queue. */
  notifierQueue?: string;
  /** Full name of the dead-letter queue: its tasks are listed with "send back to tier 1". */
  deadLetterQueue?: string;
  /** The webhook receiving notifications. */
  webhook?: {
    /** Where its notifications can be read as JSON. */
    notificationsUrl: string;
    /** Its last notifications, newest first. */
    notifications(): readonly NotificationView[];
    /** Jobs notified since start, by their first notification's outcome. */
    totals?(): { succeeded: number; failed: number };
  };
}
