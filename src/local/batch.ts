/**
 * The demo batch `executor dev` submits: which jobs are invalid (so they exhaust tier 1, move to
 * tier 2 and end in failure notifications), their context ids, and their submission through the
 * official client.
 */
import { INVALID_SOURCE_FILE, GOOD_SOURCE_FILE, SUBMIT_TIMEOUT_MS } from './defaults.js';
import type { Outcome } from './tally.js';
import { makeCreateTask, type Endpoint, type TasksApi } from '../queues/index.js';
import { contentTypeOf, encodeRequest, type RequestEncoding } from './wire.js';

/** Encodings of the batch: one of them, or all three in turn. */
export type BatchEncoding = RequestEncoding | 'mixed';

const MIXED: readonly RequestEncoding[] = ['binary', 'json', 'envelope'];

/** One job of the batch. */
export interface BatchJob {
  /** Context id (unique within the run). */
  id: string;
  /** Whether the demo worker will fail it. */
  invalid: boolean;
  /** How it is encoded. */
  encoding: RequestEncoding;
}

/**
 * Plans `jobs` jobs of which `floor(jobs × invalidRatio)` are invalid, spread evenly through the
 * batch so failures interleave with successes as real traffic would.
 */
export function planBatch(jobs: number, invalidRatio: number, encoding: BatchEncoding, runId: string): BatchJob[] {
  const width = String(jobs).length;
  return Array.from({ length: jobs }, (_, i) => ({
    id: `${runId}-${String(i + 1).padStart(width, '0')}`,
    invalid: Math.floor((i + 1) * invalidRatio) > Math.floor(i * invalidRatio),
    encoding: encoding === 'mixed' ? MIXED[i % MIXED.length]! : encoding,
  }));
}

/** The outcome each job must end with: invalid jobs fail, the rest succeed. */
export function expectedOutcomes(plan: readonly BatchJob[]): Map<string, Outcome> {
  return new Map(plan.map((j) => [j.id, j.invalid ? 'failed' : 'succeeded']));
}

/** Where and how the batch is sent. */
export interface BatchTarget {
  /** Full path of the queue (tier 1's). */
  queue: string;
  /** Tier 1's URL. */
  url: string;
  /** The webhook URL each job names. */
  webhookUrl: string;
  /** Service account of the OIDC tokens. */
  serviceAccount: string;
  /** For error messages. */
  endpoint: Endpoint;
  /** Requests in flight at once (default 32). */
  concurrency?: number;
}

/** Creates one task per job; resolves when all are accepted, rejects on the first failure. `onCreated` gets each task's full name. */
export async function submitBatch(
  client: TasksApi,
  plan: readonly BatchJob[],
  target: BatchTarget,
  onCreated?: (task: string, job: BatchJob) => void,
): Promise<void> {
  const createTask = makeCreateTask(client, { timeoutMs: SUBMIT_TIMEOUT_MS, explain: target.endpoint });
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < plan.length) {
      const job = plan[next++]!;
      const body = encodeRequest(
        { sourceFile: job.invalid ? INVALID_SOURCE_FILE : GOOD_SOURCE_FILE, webhookUrl: target.webhookUrl, context: { id: job.id } },
        job.encoding,
      );
      try {
        const created = await createTask({ queue: target.queue, url: target.url, body, headers: { 'Content-Type': contentTypeOf(job.encoding) }, serviceAccount: target.serviceAccount });
        onCreated?.(created.name, job);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(target.concurrency ?? 32, plan.length) }, () => worker()));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(`Submitting the batch failed: ${JSON.stringify(failure)}`);
}
