/**
 * Queue paths: the one place a Cloud Tasks queue's resource name is typed, parsed and built. The
 * rules are production's: project ids hold letters, digits, hyphens, colons (domain-scoped
 * projects) and periods; location ids letters, digits and hyphens; queue ids [A-Za-z0-9-]{1,100};
 * task ids [A-Za-z0-9_-]{1,500}.
 */

/** A Cloud Tasks queue's full resource name. */
export type QueuePath = `projects/${string}/locations/${string}/queues/${string}`;

/** The parts of a queue path. */
export interface QueueParts {
  /** Project id. */
  project: string;
  /** Location id, e.g. us-central1. */
  location: string;
  /** Queue id (the short name). */
  queue: string;
}

/** A project id, as production accepts it. */
export const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9.:-]{0,99}$/;
/** A location id. */
export const LOCATION_ID = /^[A-Za-z0-9-]{1,100}$/;
/** A queue id. */
export const QUEUE_ID = /^[A-Za-z0-9-]{1,100}$/;
/** A task id. */
export const TASK_ID = /^[A-Za-z0-9_-]{1,500}$/;

/** True when `id` is a valid queue id (the last segment of a queue path). */
export const isQueueId = (id: string): boolean => QUEUE_ID.test(id);

/** Builds `projects/P/locations/L/queues/Q`. */
export function queuePath(project: string, location: string, queue: string): QueuePath {
  return `projects/${project}/locations/${location}/queues/${queue}`;
}

/** Splits a full queue path into its parts; undefined when it is not one (any part invalid). */
export function parseQueuePath(value: string): QueueParts | undefined {
  const parts = value.split('/');
  if (parts.length !== 6 || parts[0] !== 'projects' || parts[2] !== 'locations' || parts[4] !== 'queues') return undefined;
  const [, project, , location, , queue] = parts as [string, string, string, string, string, string];
  return PROJECT_ID.test(project) && LOCATION_ID.test(location) && QUEUE_ID.test(queue) ? { project, location, queue } : undefined;
}

/** The location a queue path lives in: `projects/P/locations/L`. */
export function queueParent(path: string): string {
  return path.split('/').slice(0, 4).join('/');
}

/**
 * Accepts a full queue path or a short queue id plus project and location. Returns the path, or
 * pushes a problem naming the variable (or flag) and returns undefined.
 */
export function resolveQueuePath(
  variable: string,
  value: string | undefined,
  project: string | undefined,
  location: string | undefined,
  problems: string[],
  locationVariable = 'TASKS_LOCATION',
): QueuePath | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith('projects/')) {
    if (parseQueuePath(value) === undefined) {
      problems.push(`${variable} must be projects/PROJECT/locations/LOCATION/queues/QUEUE or a queue id, got '${value}'`);
      return undefined;
    }
    return value as QueuePath;
  }
  if (!isQueueId(value)) {
    problems.push(`${variable} must be a queue id ([A-Za-z0-9-], at most 100) or a full queue path, got '${value}'`);
    return undefined;
  }
  const missing = [project === undefined ? 'GOOGLE_CLOUD_PROJECT' : undefined, location === undefined ? locationVariable : undefined].filter(
    (m): m is string => m !== undefined,
  );
  if (missing.length > 0) {
    problems.push(`${variable} is a short queue id ('${value}'): set ${missing.join(' and ')}, or give a full queue path`);
    return undefined;
  }
  return queuePath(project!, location!, value);
}
