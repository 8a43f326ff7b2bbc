/**
 * The errors whose text production is known to use, recorded against real Cloud Tasks in
 * aertje/cloud-tasks-emulator's conformance goldens (conformance/golden/realcloud.json, 2026-08).
 * Each message is production's; what the emulator adds to help lives in the details.
 */
import { alreadyExists, ApiError, failedPrecondition, hint, invalidArgument, notFound, type ErrorDetail } from './status.js';

/** GetQueue, PauseQueue, ResumeQueue, PurgeQueue, CreateTask… on a missing or just-deleted queue. */
export const QUEUE_DOES_NOT_EXIST = 'Queue does not exist. If you just created the queue, wait at least a minute for the queue to initialize.';
/** DeleteQueue on a missing queue; GetTask, DeleteTask, RunTask on a missing task. */
export const ENTITY_NOT_FOUND = 'Requested entity was not found.';
/** GetTask on a task that completed or was deleted within the dedup window. */
export const TASK_EXISTED_RECENTLY = 'The task no longer exists, though a task with this name existed recently. The task either successfully completed or was deleted.';
/** CreateQueue on a name taken. */
export const QUEUE_ALREADY_EXISTS = 'Queue already exists';
/** CreateTask with a name taken. */
export const TASK_ALREADY_EXISTS = 'Requested entity already exists';
/** CreateQueue on a name deleted less than 7 days ago. */
export const QUEUE_EXISTED_RECENTLY = 'The queue cannot be created because a queue with this name existed too recently.';

const createFirst = (queue: string): ErrorDetail => hint(`Queue ${queue} does not exist on the emulator: create it first (CreateQueue or the queues file).`);

/** NOT_FOUND for a queue, with production's text. */
export const queueNotFound = (queue: string): ApiError => notFound(QUEUE_DOES_NOT_EXIST, [createFirst(queue)]);

/** NOT_FOUND answered by DeleteQueue (production's text differs from the other queue RPCs). */
export const queueToDeleteNotFound = (queue: string): ApiError => notFound(ENTITY_NOT_FOUND, [createFirst(queue)]);

/** NOT_FOUND for a task; `recently` when its name is still reserved. */
export function taskNotFound(task: string, recently: boolean): ApiError {
  return recently
    ? notFound(TASK_EXISTED_RECENTLY, [hint(`Task ${task} completed or was deleted within the dedup window.`)])
    : notFound(ENTITY_NOT_FOUND, [hint(`Task ${task} does not exist.`)]);
}

/** ALREADY_EXISTS for CreateQueue. */
export const queueAlreadyExists = (queue: string): ApiError => alreadyExists(QUEUE_ALREADY_EXISTS, [hint(`Queue ${queue} already exists.`)]);

/** ALREADY_EXISTS for CreateTask; `recently` when the name belonged to a task that is gone. */
export function taskAlreadyExists(task: string, recently: boolean): ApiError {
  return alreadyExists(TASK_ALREADY_EXISTS, [
    hint(
      recently
        ? `A task named ${task} existed too recently: names stay reserved for the dedup window after a task completes or is deleted (see --dedup-window).`
        : `Task ${task} already exists.`,
    ),
  ]);
}

/** FAILED_PRECONDITION for CreateQueue on a name deleted too recently. */
export const queueExistedRecently = (queue: string): ApiError =>
  failedPrecondition(QUEUE_EXISTED_RECENTLY, [
    hint(`Queue ${queue} was deleted less than 7 days ago. Start the emulator with --allow-queue-name-reuse (in-process: allowQueueNameReuse) to reuse names at once.`),
  ]);

/** INVALID_ARGUMENT for a queue name that is not projects/P/locations/L/queues/Q. */
export const invalidQueueName = (why: string): ApiError =>
  invalidArgument('Queue name must be formatted: "projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>".', [
    { type: 'Help', links: [{ description: 'Definition of queue name', url: 'https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues#Queue.FIELDS.name' }] },
    hint(why),
  ]);

/** INVALID_ARGUMENT for a task id outside [A-Za-z0-9_-]{1,500}. */
export const invalidTaskId = (id: string): ApiError =>
  invalidArgument(
    `Task ID "${id}" can contain only letters ([A-Za-z]), numbers ([0-9]), hyphens (-), or underscores (_). Task ID must between 1 and 500 characters.`,
    [{ type: 'Help', links: [{ description: 'Definition of task ID', url: 'https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues.tasks#Task.FIELDS.name' }] }],
  );

/**
 * PERMISSION_DENIED for a malformed parent: production resolves whatever it was given to a
 * project and fails the permission check on it, rather than rejecting the syntax.
 */
export function permissionDeniedOnProject(parent: string): ApiError {
  const project = parent.startsWith('projects/') ? (parent.split('/')[1] ?? '') : parent;
  const message = `Permission denied on resource project ${project}.`;
  return new ApiError('PERMISSION_DENIED', message, [
    {
      type: 'ErrorInfo',
      reason: 'CONSUMER_INVALID',
      domain: 'googleapis.com',
      metadata: { consumer: `projects/${project}`, containerInfo: project, service: 'cloudtasks.googleapis.com' },
    },
    { type: 'LocalizedMessage', locale: 'en-US', message },
    { type: 'Help', links: [{ description: 'Google developers console', url: 'https://console.developers.google.com' }] },
    hint(`'${parent}' is not a location: a parent has the form projects/PROJECT_ID/locations/LOCATION_ID.`),
  ]);
}
