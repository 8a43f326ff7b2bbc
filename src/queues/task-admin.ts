/**
 * The task operations of `executor tasks` (list, describe, run, delete): one call each, bounded by
 * a deadline; errors are the client's (with their gRPC code).
 */
import type { CloudTasksClient, protos } from '@google-cloud/tasks';
import type { AdminCallOptions } from './queue-admin.js';

/** A task as the API returns it. */
export type Task = protos.google.cloud.tasks.v2.ITask;

/** BASIC leaves out the body (and headers); FULL has them. */
export type TaskView = 'BASIC' | 'FULL';

/** The part of the client these operations use. */
export type TaskAdminApi = Pick<CloudTasksClient, 'listTasks' | 'getTask' | 'runTask' | 'deleteTask'>;

/** Up to `limit` tasks of `queue`, following pages. */
export async function listTasks(client: TaskAdminApi, queue: string, limit: number, view: TaskView, options: AdminCallOptions): Promise<Task[]> {
  const out: Task[] = [];
  let pageToken: string | undefined;
  do {
    const [page, , response] = await client.listTasks(
      { parent: queue, responseView: view, pageSize: Math.min(limit - out.length, 1000), ...(pageToken ? { pageToken } : {}) },
      { ...options, autoPaginate: false },
    );
    out.push(...page);
    pageToken = response?.nextPageToken || undefined;
  } while (pageToken !== undefined && out.length < limit);
  return out.slice(0, limit);
}

/** One task by its full name. */
export async function getTask(client: TaskAdminApi, name: string, view: TaskView, options: AdminCallOptions): Promise<Task> {
  const [task] = await client.getTask({ name, responseView: view }, options);
  return task;
}

/** Dispatches a task now, even if its queue is paused or it is scheduled later (RunTask). */
export async function runTask(client: TaskAdminApi, name: string, options: AdminCallOptions): Promise<Task> {
  const [task] = await client.runTask({ name, responseView: 'BASIC' }, options);
  return task;
}

/** Deletes a task. */
export async function deleteTask(client: TaskAdminApi, name: string, options: AdminCallOptions): Promise<void> {
  await client.deleteTask({ name }, options);
}
