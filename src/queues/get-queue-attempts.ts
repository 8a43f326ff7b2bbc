/** Reading a queue's retry config: how many attempts Cloud Tasks allows a task of it. */
import type { CloudTasksClient } from '@google-cloud/tasks';

/** The part of the client this operation uses. */
export type QueueReader = Pick<CloudTasksClient, 'getQueue'>;

/**
 * `retryConfig.maxAttempts` of `queue` as the API reports it (0 = the default, -1 = unlimited).
 * Throws the client's error (with its gRPC `code`) when the queue cannot be read.
 */
export async function getQueueMaxAttempts(client: QueueReader, queue: string, timeoutMs: number): Promise<number> {
  const [found] = await client.getQueue({ name: queue }, { timeout: timeoutMs });
  // proto3 leaves an unset int32 at 0, which the API documents as "the default".
  return Number(found?.retryConfig?.maxAttempts ?? 0);
}
