/**
 * Cloud Tasks errors explained for people: a client's gRPC failure becomes a coded error whose
 * message says what to do next (`executor submit`, `executor dev`).
 */
import { status } from '@grpc/grpc-js';
import { CodedError, messageOf } from '../errors.js';

/** Where a call went, for error messages. */
export interface Endpoint {
  /** `host:port` of the emulator, or undefined for Google. */
  emulatorHost?: string;
}

/** The gRPC status code a Cloud Tasks client error carries, if any. */
export function grpcCodeOf(err: unknown): status | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Maps a Cloud Tasks client error to a coded error whose message says what to do next. */
export function explainTasksError(err: unknown, queue: string, endpoint: Endpoint): CodedError {
  if (err instanceof CodedError) return err;
  const code = grpcCodeOf(err);
  const detail = err instanceof Error ? (err as { details?: string }).details || err.message : messageOf(err);
  const where = endpoint.emulatorHost !== undefined ? `the emulator at ${endpoint.emulatorHost}` : 'Google Cloud Tasks';
  // Production answers CreateTask on a missing queue with NOT_FOUND "Queue does not exist. …" (the
  // 2026 recording, and the emulator since); older answers were FAILED_PRECONDITION with that text.
  const missingQueue = code === status.NOT_FOUND || (code === status.FAILED_PRECONDITION && /queue does not exist/i.test(detail));
  switch (missingQueue ? status.NOT_FOUND : code) {
    case status.NOT_FOUND:
      return new CodedError(
        'QUEUE_NOT_FOUND',
        endpoint.emulatorHost !== undefined
          ? `Queue ${queue} does not exist on ${where}: check --queue/--project/--location, or start the emulator with a queues file that declares it (executor emulator --queues local/queues.yaml, or npm start)`
          : `Queue ${queue} does not exist on ${where}: check --queue/--project/--location, or create it (gcloud tasks queues create QUEUE --location LOCATION)`,
        { cause: err },
      );
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new CodedError(
        'TASKS_UNAVAILABLE',
        endpoint.emulatorHost !== undefined
          ? `Cannot reach the emulator at ${endpoint.emulatorHost} (${detail}): start it (executor emulator, or npm start for the whole stack) or fix --emulator / CLOUD_TASKS_EMULATOR_HOST`
          : `Cannot reach Google Cloud Tasks (${detail}): check your network, or pass --emulator host:port to use a local emulator`,
        { cause: err },
      );
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new CodedError(
        'TASKS_PERMISSION_DENIED',
        `Not allowed to create tasks in ${queue} (${detail}): run 'gcloud auth application-default login' or grant roles/cloudtasks.enqueuer (and roles/iam.serviceAccountUser on the OIDC service account)`,
        { cause: err },
      );
    case status.ALREADY_EXISTS:
      return new CodedError('TASK_ALREADY_EXISTS', `A task with that name already exists (or existed within the last hour) in ${queue}: use another id`, { cause: err });
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
      return new CodedError('TASK_REJECTED', `${where} rejected the task for ${queue}: ${detail}`, { cause: err });
    default:
      return new CodedError('TASK_CREATE_FAILED', `Creating a task in ${queue} on ${where} failed: ${detail}`, { cause: err });
  }
}
