/**
 * An admin command's failure explained for people: which resource, what happened, what to do.
 * Reachability reads as for `executor submit` (explainTasksError); the rest is per resource.
 */
import { status } from '@grpc/grpc-js';
import { CodedError, messageOf } from '../errors.js';
import { explainTasksError, grpcCodeOf, type Endpoint } from '../queues/index.js';

/** What the command was doing, for the message. */
export interface Attempted {
  /** "queue" or "task". */
  resource: 'queue' | 'task';
  /** Its full name (or the parent, for a list). */
  name: string;
  /** The verb, e.g. "delete". */
  verb: string;
}

/** Maps a Cloud Tasks client error of an admin call to a coded error. */
export function explainAdminError(err: unknown, what: Attempted, endpoint: Endpoint): CodedError {
  if (err instanceof CodedError) return err;
  const detail = (err as { details?: string }).details || messageOf(err);
  const where = endpoint.emulatorHost !== undefined ? `the emulator at ${endpoint.emulatorHost}` : 'Google Cloud Tasks';
  switch (grpcCodeOf(err)) {
    case status.NOT_FOUND:
      return what.resource === 'queue'
        ? new CodedError('QUEUE_NOT_FOUND', `Queue ${what.name} does not exist on ${where}: check the name, --project and --location ('executor queues list' shows what exists)`, { cause: err })
        : new CodedError('TASK_NOT_FOUND', `Task ${what.name} does not exist on ${where} (done, deleted, or a wrong name): 'executor tasks list --queue QUEUE' shows what is waiting`, { cause: err });
    case status.ALREADY_EXISTS:
      return new CodedError('QUEUE_ALREADY_EXISTS', `Queue ${what.name} already exists on ${where}: change it with 'executor queues update', or pick another name`, { cause: err });
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new CodedError(
        'TASKS_PERMISSION_DENIED',
        `Not allowed to ${what.verb} ${what.resource} ${what.name} (${detail}): run 'gcloud auth application-default login' or grant a Cloud Tasks role (roles/cloudtasks.admin for queues, roles/cloudtasks.taskDeleter or .taskRunner for tasks)`,
        { cause: err },
      );
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
      return new CodedError('TASKS_REQUEST_REJECTED', `${where} refused to ${what.verb} ${what.resource} ${what.name}: ${detail}`, { cause: err });
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return explainTasksError(err, what.name, endpoint);
    default:
      return new CodedError('TASKS_ADMIN_FAILED', `Could not ${what.verb} ${what.resource} ${what.name} on ${where}: ${detail}`, { cause: err });
  }
}
