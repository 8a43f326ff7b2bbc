/**
 * Creating work tasks through the official Cloud Tasks client, against the emulator or Google, and
 * turning the client's gRPC errors into messages that say what to do next.
 */
import { CloudTasksClient } from '@google-cloud/tasks';
import { CodedError } from '../errors.js';
import { newEmulatorClient } from '../queues/index.js';

/** The official client, as `executor submit` and `executor dev` use it. */
export type TasksClient = CloudTasksClient;

/**
 * Makes the official client, unshared (the command closes it when done). With `emulatorHost`
 * (`host:port`) it speaks plaintext gRPC to the emulator and never looks for Google credentials;
 * without it, Google with Application Default Credentials.
 */
export function makeClient(emulatorHost?: string): TasksClient {
  return emulatorHost === undefined ? new CloudTasksClient() : newEmulatorClient(emulatorHost);
}

/** One work task to create. */
export interface WorkTask {
  /** Full queue path. */
  queue: string;
  /** Target URL (the executor tier). */
  url: string;
  /** Request body. */
  body: Buffer;
  /** Content-Type header of the push. */
  contentType: string;
  /** Service account whose OIDC token the push carries; none when undefined. */
  serviceAccount?: string;
  /** OIDC audience; the target URL when undefined (as Cloud Tasks does). */
  audience?: string;
  /** Task id (for idempotent submission); Cloud Tasks names it when undefined. */
  taskId?: string;
}

/** Where a call went, for error messages. */
export interface Endpoint {
  /** `host:port` of the emulator, or undefined for Google. */
  emulatorHost?: string;
}

/** Creates one HTTP task; returns its full name. Errors come back as {@link explainTasksError} coded errors. */
export async function createWorkTask(client: TasksClient, task: WorkTask, endpoint: Endpoint): Promise<string> {
  try {
    const [created] = await client.createTask(
      {
        parent: task.queue,
        task: {
          ...(task.taskId !== undefined ? { name: `${task.queue}/tasks/${task.taskId}` } : {}),
          httpRequest: {
            url: task.url,
            httpMethod: 'POST',
            headers: { 'Content-Type': task.contentType },
            body: task.body,
            ...(task.serviceAccount !== undefined
              ? { oidcToken: { serviceAccountEmail: task.serviceAccount, ...(task.audience !== undefined ? { audience: task.audience } : {}) } }
              : {}),
          },
        },
      },
      // Creating a task is not idempotent without a name: one attempt, bounded, so a missing
      // emulator is reported in seconds rather than after the client's long default deadline.
      { timeout: 15_000, retry: null },
    );
    return created.name ?? '';
  } catch (err) {
    throw explainTasksError(err, task.queue, endpoint);
  }
}

const GRPC = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** Maps a Cloud Tasks client error to a coded error whose message says what to do next. */
export function explainTasksError(err: unknown, queue: string, endpoint: Endpoint): CodedError {
  if (err instanceof CodedError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'number' ? (err as { code: number }).code : undefined;
  const detail = err instanceof Error ? (err as { details?: string }).details || err.message : String(err);
  const where = endpoint.emulatorHost !== undefined ? `the emulator at ${endpoint.emulatorHost}` : 'Google Cloud Tasks';
  // Production answers CreateTask on a missing queue with NOT_FOUND "Queue does not exist. …" (the
  // 2026 recording, and the emulator since); older answers were FAILED_PRECONDITION with that text.
  const missingQueue = code === GRPC.NOT_FOUND || (code === GRPC.FAILED_PRECONDITION && /queue does not exist/i.test(detail));
  switch (missingQueue ? GRPC.NOT_FOUND : code) {
    case GRPC.NOT_FOUND:
      return new CodedError(
        'QUEUE_NOT_FOUND',
        endpoint.emulatorHost !== undefined
          ? `Queue ${queue} does not exist on ${where}: check --queue/--project/--location, or start the emulator with a queues file that declares it (npx executor emulator --queues local/queues.yaml, or npm start)`
          : `Queue ${queue} does not exist on ${where}: check --queue/--project/--location, or create it (gcloud tasks queues create QUEUE --location LOCATION)`,
        { cause: err },
      );
    case GRPC.UNAVAILABLE:
    case GRPC.DEADLINE_EXCEEDED:
      return new CodedError(
        'TASKS_UNAVAILABLE',
        endpoint.emulatorHost !== undefined
          ? `Cannot reach the emulator at ${endpoint.emulatorHost} (${detail}): start it (npx executor emulator, or npm start for the whole stack) or fix --emulator / CLOUD_TASKS_EMULATOR_HOST`
          : `Cannot reach Google Cloud Tasks (${detail}): check your network, or pass --emulator host:port to use a local emulator`,
        { cause: err },
      );
    case GRPC.PERMISSION_DENIED:
    case GRPC.UNAUTHENTICATED:
      return new CodedError(
        'TASKS_PERMISSION_DENIED',
        `Not allowed to create tasks in ${queue} (${detail}): run 'gcloud auth application-default login' or grant roles/cloudtasks.enqueuer (and roles/iam.serviceAccountUser on the OIDC service account)`,
        { cause: err },
      );
    case GRPC.ALREADY_EXISTS:
      return new CodedError('TASK_ALREADY_EXISTS', `A task with that name already exists (or existed within the last hour) in ${queue}: use another id`, { cause: err });
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
      return new CodedError('TASK_REJECTED', `${where} rejected the task for ${queue}: ${detail}`, { cause: err });
    default:
      return new CodedError('TASK_CREATE_FAILED', `Creating a task in ${queue} on ${where} failed: ${detail}`, { cause: err });
  }
}
