import { shortName } from '../queues/names.js';
import { LOCATION_ID as LOCATION, PROJECT_ID as PROJECT, QUEUE_ID, TASK_ID, isQueueId } from '../queues/paths.js';
import { invalidQueueName, invalidTaskId, permissionDeniedOnProject } from './production-errors.js';
import { invalidArgument } from './status.js';

/** The parts of a queue resource name `projects/P/locations/L/queues/Q`. */
export interface QueueName {
  project: string;
  location: string;
  queue: string;
  /** The full resource name. */
  name: string;
}

/** The parts of a task resource name `projects/P/locations/L/queues/Q/tasks/T`. */
export interface TaskName extends QueueName {
  task: string;
  /** The full resource name of the task. */
  taskName: string;
}

// Production's rules, from the one queue-path module (src/queues/paths.ts).
export { isQueueId };

/** Parses `projects/P/locations/L` (a queue's parent). */
export function parseLocationName(parent: string): { project: string; location: string; name: string } {
  const parts = parent.split('/');
  if (parts.length !== 4 || parts[0] !== 'projects' || parts[2] !== 'locations' || !PROJECT.test(parts[1]!) || !LOCATION.test(parts[3]!)) {
    throw permissionDeniedOnProject(parent);
  }
  return { project: parts[1]!, location: parts[3]!, name: parent };
}

/** Parses and validates a full queue name. */
export function parseQueueName(name: string): QueueName {
  const parts = name.split('/');
  if (parts.length !== 6 || parts[0] !== 'projects' || parts[2] !== 'locations' || parts[4] !== 'queues') {
    throw invalidQueueName(`Invalid queue name '${name}': it must have the form projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID.`);
  }
  const [, project, , location, , queue] = parts as [string, string, string, string, string, string];
  if (!PROJECT.test(project)) throw invalidQueueName(`Invalid project id '${project}' in queue name '${name}'.`);
  if (!LOCATION.test(location)) throw invalidQueueName(`Invalid location id '${location}' in queue name '${name}'.`);
  if (!QUEUE_ID.test(queue)) {
    throw invalidQueueName(`Invalid queue id '${queue}' in '${name}': a queue id is 1 to 100 letters, digits or hyphens ([A-Za-z0-9-]).`);
  }
  return { project, location, queue, name };
}

/** Parses and validates a full task name. */
export function parseTaskName(taskName: string): TaskName {
  const parts = taskName.split('/');
  if (parts.length !== 8 || parts[6] !== 'tasks') {
    throw invalidArgument(
      `Invalid task name '${taskName}': it must have the form projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID/tasks/TASK_ID.`,
    );
  }
  const queue = parseQueueName(parts.slice(0, 6).join('/'));
  const task = parts[7]!;
  if (!TASK_ID.test(task)) throw invalidTaskId(task);
  return { ...queue, task, taskName };
}

/** Short id (last path segment) of a resource name. */
export const shortId = shortName;
