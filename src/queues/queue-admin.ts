/**
 * The queue operations of `executor queues` (list, describe, create, update, pause, resume, purge,
 * delete): one call each, bounded by a deadline; errors are the client's (with their gRPC code).
 */
import type { CloudTasksClient, protos } from '@google-cloud/tasks';

/** A queue as the API returns it. */
export type Queue = protos.google.cloud.tasks.v2.IQueue;

/** The part of the client these operations use. */
export type QueueAdminApi = Pick<
  CloudTasksClient,
  'listQueues' | 'getQueue' | 'createQueue' | 'updateQueue' | 'pauseQueue' | 'resumeQueue' | 'purgeQueue' | 'deleteQueue'
>;

/**
 * Per call: a deadline (ms), and `retry: null` where retrying cannot help (an emulator that does
 * not answer is not coming back within the deadline).
 */
export interface AdminCallOptions {
  timeout: number;
  retry?: null;
}

/** Up to `limit` queues of `parent` (projects/P/locations/L), following pages. */
export async function listQueues(client: QueueAdminApi, parent: string, limit: number, options: AdminCallOptions): Promise<Queue[]> {
  const out: Queue[] = [];
  let pageToken: string | undefined;
  do {
    const [page, , response] = await client.listQueues({ parent, pageSize: Math.min(limit - out.length, 1000), ...(pageToken ? { pageToken } : {}) }, { ...options, autoPaginate: false });
    out.push(...page);
    pageToken = response?.nextPageToken || undefined;
  } while (pageToken !== undefined && out.length < limit);
  return out.slice(0, limit);
}

/** One queue by its full name. */
export async function getQueue(client: QueueAdminApi, name: string, options: AdminCallOptions): Promise<Queue> {
  const [queue] = await client.getQueue({ name }, options);
  return queue;
}

/** Creates `queue` (its `name` set) under `parent`. */
export async function createQueue(client: QueueAdminApi, parent: string, queue: Queue, options: AdminCallOptions): Promise<Queue> {
  const [created] = await client.createQueue({ parent, queue }, options);
  return created;
}

/** Updates the fields of `queue` named by `paths` (an update mask: `retry_config.max_attempts`, …). */
export async function updateQueue(client: QueueAdminApi, queue: Queue, paths: string[], options: AdminCallOptions): Promise<Queue> {
  const [updated] = await client.updateQueue({ queue, updateMask: { paths } }, options);
  return updated;
}

/** Pauses, resumes or purges a queue; resolves with the queue after the change. */
export async function changeQueueState(client: QueueAdminApi, name: string, change: 'pause' | 'resume' | 'purge', options: AdminCallOptions): Promise<Queue> {
  const request = { name };
  const [queue] =
    change === 'pause'
      ? await client.pauseQueue(request, options)
      : change === 'resume'
        ? await client.resumeQueue(request, options)
        : await client.purgeQueue(request, options);
  return queue;
}

/** Deletes a queue (its name cannot be reused for a while in production). */
export async function deleteQueue(client: QueueAdminApi, name: string, options: AdminCallOptions): Promise<void> {
  await client.deleteQueue({ name }, options);
}
