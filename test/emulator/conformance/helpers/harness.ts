// One emulator + one receiver + the official client for one transport: the fixture every
// conformance file starts in beforeAll and closes in afterAll. Each test creates its own queues and
// receiver paths so tests in a file never see each other's traffic.
import type { CloudTasksClient, protos } from '@google-cloud/tasks';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../../src/emulator/index.js';
import { makeClient, type Mode } from './clients.js';
import { startReceiver, type Receiver } from './receiver.js';
import { defined } from '../../../helpers/defined.js';

/** The project/location every conformance test uses (the emulator's defaults). */
export const PROJECT = 'local-project';
export const LOCATION = 'us-central1';
export const LOCATION_PATH = `projects/${PROJECT}/locations/${LOCATION}`;

type ITask = protos.google.cloud.tasks.v2.ITask;
type IQueue = protos.google.cloud.tasks.v2.IQueue;
type IDuration = protos.google.protobuf.IDuration;
type ITimestamp = protos.google.protobuf.ITimestamp;

/** Retry settings in plain numbers (seconds), turned into proto Durations by the harness. */
export interface RetrySpec {
  maxAttempts?: number;
  minBackoff?: number;
  maxBackoff?: number;
  maxDoublings?: number;
  maxRetryDuration?: number;
}

/** Rate settings as the REST API names them. */
export interface RateSpec {
  maxDispatchesPerSecond?: number;
  maxConcurrentDispatches?: number;
}

/** What a test needs to create a task against the receiver. */
export interface TaskSpec {
  /** Receiver path the task posts to; also the default task id's seed. */
  path: string;
  /** Short task id; omitted = let the emulator pick one. */
  id?: string;
  body?: string | Buffer;
  method?: 'POST' | 'GET' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
  headers?: Record<string, string>;
  scheduleTime?: Date;
  dispatchDeadlineSeconds?: number;
  oidc?: { serviceAccountEmail: string; audience?: string };
  oauth?: { serviceAccountEmail: string; scope?: string };
}

/** The running fixture. */
export interface Harness {
  readonly mode: Mode;
  readonly emulator: Emulator;
  readonly receiver: Receiver;
  readonly client: CloudTasksClient;
  /** Full queue name for a short id. */
  queuePath(id: string): string;
  /** Full task name for a short queue id and task id. */
  taskPath(queueId: string, taskId: string): string;
  /** A queue id unique within this harness (queue ids: [A-Za-z0-9-]). */
  uniqueQueueId(prefix: string): string;
  /** Creates a RUNNING queue through the client; returns its short id. */
  createQueue(id: string, options?: { retry?: RetrySpec; rate?: RateSpec }): Promise<IQueue>;
  /** Creates an HTTP task on a queue through the client. */
  createTask(queueId: string, spec: TaskSpec): Promise<ITask>;
  close(): Promise<void>;
}

/** Seconds as a protobuf Duration (sub-second values keep their nanos). */
export function duration(seconds: number): IDuration {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

/** A Date as a protobuf Timestamp. */
export function timestamp(date: Date): ITimestamp {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** Epoch ms of a protobuf Timestamp as the client returns it (seconds may be a string or Long). */
export function toMs(ts: ITimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds ?? 0);
  return seconds * 1000 + Math.round((ts.nanos ?? 0) / 1e6);
}

/** Seconds of a protobuf Duration as the client returns it. */
export function toSeconds(d: IDuration | null | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9;
}

/** The short id at the end of a resource name. */
export function shortId(name: string | null | undefined): string {
  return (name ?? '').split('/').pop() ?? '';
}

let counter = 0;

/**
 * Starts a receiver, an emulator (random port) and the client for `mode`. `options` may depend on
 * the receiver (e.g. to send App Engine tasks to it).
 */
export async function startHarness(mode: Mode, options: EmulatorOptions | ((receiver: Receiver) => EmulatorOptions) = {}): Promise<Harness> {
  const receiver = await startReceiver();
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, ...(typeof options === 'function' ? options(receiver) : options) });
  const client = makeClient(mode, emulator);
  const queuePath = (id: string): string => `${LOCATION_PATH}/queues/${id}`;

  return {
    mode,
    emulator,
    receiver,
    client,
    queuePath,
    taskPath: (queueId, taskId) => `${queuePath(queueId)}/tasks/${taskId}`,
    uniqueQueueId: (prefix) => `${prefix}-${mode}-${++counter}`.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 100),
    async createQueue(id, { retry, rate } = {}) {
      const queue: IQueue = { name: queuePath(id) };
      if (retry) {
        queue.retryConfig = defined({
          maxAttempts: retry.maxAttempts,
          minBackoff: retry.minBackoff === undefined ? undefined : duration(retry.minBackoff),
          maxBackoff: retry.maxBackoff === undefined ? undefined : duration(retry.maxBackoff),
          maxDoublings: retry.maxDoublings,
          maxRetryDuration: retry.maxRetryDuration === undefined ? undefined : duration(retry.maxRetryDuration),
        });
      }
      if (rate) queue.rateLimits = { ...rate };
      const [created] = await client.createQueue({ parent: LOCATION_PATH, queue });
      return created;
    },
    async createTask(queueId, spec) {
      const task: ITask = {
        httpRequest: defined({
          url: receiver.url + spec.path,
          httpMethod: spec.method ?? 'POST',
          headers: spec.headers ?? {},
          body: spec.body === undefined ? undefined : Buffer.from(spec.body),
          oidcToken: spec.oidc,
          oauthToken: spec.oauth,
        }),
      };
      if (spec.id !== undefined) task.name = `${queuePath(queueId)}/tasks/${spec.id}`;
      if (spec.scheduleTime) task.scheduleTime = timestamp(spec.scheduleTime);
      if (spec.dispatchDeadlineSeconds !== undefined) task.dispatchDeadline = duration(spec.dispatchDeadlineSeconds);
      const [created] = await client.createTask({ parent: queuePath(queueId), task });
      return created;
    },
    async close() {
      await client.close();
      await emulator.close();
      await receiver.close();
    },
  };
}

/** What a failed call shows through the official client, the same in both transports. */
export interface ClientError {
  /** gRPC status code. */
  code: number | string;
  /** The server's message as sent (gRPC: `details`; REST: `message`). */
  message: string;
  /** google.rpc details gax decoded (`statusDetails`). */
  details: unknown[];
  /** ErrorInfo.reason, when the error carried one. */
  reason?: string;
}

/** Runs `fn` and returns how it failed; throws when it did not. */
export async function apiError(fn: () => Promise<unknown>): Promise<ClientError> {
  try {
    await fn();
  } catch (err) {
    const e = err as { code?: number | string; details?: unknown; message?: string; statusDetails?: unknown[]; reason?: string };
    const out: ClientError = {
      code: e.code ?? 'no code',
      message: typeof e.details === 'string' && e.details !== '' ? e.details : (e.message ?? ''),
      details: e.statusDetails ?? [],
    };
    if (e.reason !== undefined) out.reason = e.reason;
    return out;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Runs `fn` and returns the gRPC status code it failed with (both transports expose `.code`). */
export async function errorCode(fn: () => Promise<unknown>): Promise<number | string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: number | string }).code ?? 'no code';
  }
  return 'no error';
}
