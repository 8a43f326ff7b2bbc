/**
 * The one CreateTask operation: builds the request from a task description (name, HTTP target,
 * OIDC token), bounds the call, and counts ALREADY_EXISTS on a named task as "exists" — the
 * deterministic name was created by an earlier delivery, so a repeated handoff creates nothing
 * new. Callers inject the function this returns (`apply` never builds a CreateTask request).
 */
import { status } from '@grpc/grpc-js';
import type { protos } from '@google-cloud/tasks';
import { explainTasksError, grpcCodeOf, type Endpoint } from './explain.js';
import { taskPath } from './names.js';
import type { QueuePath } from './paths.js';

/** The part of CloudTasksClient this operation uses; the real client satisfies it. */
export interface TasksApi {
  createTask(
    request: protos.google.cloud.tasks.v2.ICreateTaskRequest,
    options?: { timeout?: number; retry?: null },
  ): Promise<unknown>;
}

/** One HTTP task to create. */
export interface TaskDescription {
  /** Full queue path. */
  queue: string;
  /** Task id; without one Cloud Tasks names the task and duplicates are possible. */
  taskId?: string;
  /** Target URL (POST). */
  url: string;
  /** Request body. */
  body: Buffer | Uint8Array;
  /** Request headers (Content-Type and the executor's own). */
  headers: Record<string, string>;
  /** Service account whose OIDC token the push carries; none when undefined. */
  serviceAccount?: string;
  /** OIDC audience; the target URL when undefined (as Cloud Tasks does). */
  audience?: string;
  /** First dispatch time, epoch ms; undefined = as soon as possible. */
  scheduleTime?: number;
}

/** What one CreateTask did. */
export interface CreatedTask {
  /** Full task name: the one asked for, else the one Cloud Tasks chose ('' if it said none). */
  name: string;
  /** `exists` when a task of that name had already been created. */
  result: 'created' | 'exists';
}

/** Creates one task; throws the client's error (or, with `explain`, a coded error for people). */
export type CreateTask = (task: TaskDescription) => Promise<CreatedTask>;

/** Options of {@link makeCreateTask}. */
export interface CreateTaskOptions {
  /** Deadline of one call, in milliseconds. */
  timeoutMs: number;
  /** When set, failures are thrown as {@link explainTasksError} coded errors naming this endpoint. */
  explain?: Endpoint;
}

/** Makes the CreateTask operation over a client. */
export function makeCreateTask(client: TasksApi, options: CreateTaskOptions): CreateTask {
  return async function createTask(task: TaskDescription): Promise<CreatedTask> {
    const name = task.taskId !== undefined ? taskPath(task.queue as QueuePath, task.taskId) : undefined;
    const httpRequest: protos.google.cloud.tasks.v2.IHttpRequest = { url: task.url, httpMethod: 'POST', headers: task.headers, body: task.body };
    if (task.serviceAccount !== undefined) httpRequest.oidcToken = { serviceAccountEmail: task.serviceAccount, audience: task.audience ?? task.url };
    try {
      // Creating a task is not idempotent without a name: one attempt, bounded, so an unreachable
      // Cloud Tasks is reported within the deadline rather than after the client's long default.
      const answer = await client.createTask(
        {
          parent: task.queue,
          task: {
            ...(name !== undefined ? { name } : {}),
            httpRequest,
            ...(task.scheduleTime !== undefined ? { scheduleTime: { seconds: Math.floor(task.scheduleTime / 1000), nanos: (task.scheduleTime % 1000) * 1e6 } } : {}),
          },
        },
        { timeout: options.timeoutMs, retry: null },
      );
      const created = Array.isArray(answer) ? (answer[0] as protos.google.cloud.tasks.v2.ITask | undefined) : undefined;
      return { name: name ?? created?.name ?? '', result: 'created' };
    } catch (err) {
      if (name !== undefined && grpcCodeOf(err) === status.ALREADY_EXISTS) return { name, result: 'exists' };
      throw options.explain !== undefined ? explainTasksError(err, task.queue, options.explain) : err;
    }
  };
}
