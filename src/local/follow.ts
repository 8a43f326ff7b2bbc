/**
 * `executor submit --wait`: follows the jobs it submitted to their notifications, by asking the
 * webhook receiver they notify (`GET /notifications?jobId=…&wait=S`, see ./webhook.ts) — a long
 * poll, so a notification is seen as soon as it arrives without polling in a tight loop.
 */
import { z } from 'zod';
import { CodedError, formatIssues, messageOf } from '../errors.js';
import type { JobNotification } from './job-notifications.js';

/** Job ids asked per request (the webhook accepts up to 100). */
const IDS_PER_REQUEST = 100;

/** Longest single wait asked of the webhook, in seconds (it holds at most 60). */
const LONG_POLL_SECONDS = 25;

const answerSchema = z.object({
  notifications: z.array(
    z.looseObject({
      jobId: z.string(),
      outcome: z.enum(['succeeded', 'failed']),
      format: z.string(),
      receivedAt: z.number(),
      body: z.string(),
      notifications: z.number().int().positive(),
      tier: z.number().int().optional(),
      attempts: z.number().int().optional(),
      error: z.string().optional(),
    }),
  ),
  pending: z.array(z.string()),
});

/** What following the jobs came to. */
export interface FollowResult {
  /** Each job's (first) notification, in arrival order. */
  notified: JobNotification[];
  /** Jobs with no notification when the time was up (empty when all arrived). */
  missing: string[];
}

/** Options of {@link followJobs}. */
export interface FollowOptions {
  /** The webhook URL the jobs notify; its origin serves `GET /notifications`. */
  webhookUrl: string;
  /** The job ids to follow. */
  jobIds: readonly string[];
  /** Epoch ms after which the jobs still missing are given up on. */
  deadline: number;
  /** Called once per job, as its notification is seen. */
  onNotified?: (n: JobNotification) => void;
  /** The clock (tests keep the real one; injected for the deadline only). */
  now?: () => number;
}

/** The URL of the webhook receiver's job query for some ids. */
function queryUrl(webhookUrl: string, ids: readonly string[], waitSeconds: number): string {
  const url = new URL('/notifications', webhookUrl);
  for (const id of ids) url.searchParams.append('jobId', id);
  if (waitSeconds > 0) url.searchParams.set('wait', String(waitSeconds));
  return url.toString();
}

/** One job query; throws a coded error that names the webhook and what to check. */
async function ask(webhookUrl: string, ids: readonly string[], waitSeconds: number): Promise<z.infer<typeof answerSchema>> {
  const url = queryUrl(webhookUrl, ids, waitSeconds);
  const origin = new URL(webhookUrl).origin;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout((waitSeconds + 15) * 1000) });
  } catch (err) {
    throw new CodedError(
      'SUBMIT_WAIT_WEBHOOK_UNREACHABLE',
      `Cannot reach the webhook at ${origin} to follow the jobs (${messageOf((err as { cause?: unknown }).cause ?? err)}): is the local stack (npm start) or 'executor dev --webhook-only' still running?`,
      { cause: err },
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const answer = answerSchema.safeParse(parsed);
  if (!response.ok || !answer.success) {
    throw new CodedError(
      'SUBMIT_WAIT_WEBHOOK_UNSUPPORTED',
      `The webhook at ${origin} does not answer GET /notifications?jobId=… as the local stack's webhook receiver does (HTTP ${response.status}${
        answer.success ? '' : `, ${formatIssues(answer.error.issues.slice(0, 2)).join('; ')}`
      }): --wait follows jobs through that receiver (npm start, or 'executor dev --webhook-only'), not through a webhook of your own`,
    );
  }
  return answer.data;
}

/**
 * Follows `jobIds` until each has a notification or the deadline passes. Every round first asks
 * about all pending jobs without waiting (so no job's notification is missed behind another's),
 * then, when none arrived, waits on the webhook for the first batch of them.
 */
export async function followJobs(options: FollowOptions): Promise<FollowResult> {
  const now = options.now ?? Date.now;
  const pending = new Set(options.jobIds);
  const notified: JobNotification[] = [];
  const take = (answer: z.infer<typeof answerSchema>): number => {
    let got = 0;
    for (const n of answer.notifications) {
      if (!pending.delete(n.jobId)) continue;
      const job = n as JobNotification;
      notified.push(job);
      options.onNotified?.(job);
      got += 1;
    }
    return got;
  };
  const batches = (): string[][] => {
    const ids = [...pending];
    return Array.from({ length: Math.ceil(ids.length / IDS_PER_REQUEST) }, (_, i) => ids.slice(i * IDS_PER_REQUEST, (i + 1) * IDS_PER_REQUEST));
  };

  for (;;) {
    let got = 0;
    for (const batch of batches()) got += take(await ask(options.webhookUrl, batch, 0));
    if (pending.size === 0) break;
    const left = options.deadline - now();
    if (left <= 0) break;
    if (got === 0) take(await ask(options.webhookUrl, batches()[0]!, Math.max(1, Math.min(LONG_POLL_SECONDS, Math.ceil(left / 1000)))));
  }
  return { notified, missing: [...pending] };
}
