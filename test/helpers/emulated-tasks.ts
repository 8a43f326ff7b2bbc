/**
 * The real emulator as the Cloud Tasks of executor tests: its queues are PAUSED, so every task the
 * code under test creates stays there to be read back (and nothing is pushed anywhere, not even to
 * the example.test URLs the tests name). Failures come from the emulator's fault hooks.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { startEmulator, type Emulator, type FaultRuleInput } from '../../src/emulator/index.js';
import { newEmulatorClient } from '../../src/queues/tasks-client.js';

/** A created task, read back through the official client (FULL view). */
export interface StoredTask {
  /** Full task name. */
  name: string;
  /** Full name of its queue. */
  queue: string;
  httpRequest: {
    url: string;
    httpMethod: string;
    /** As the creator spelled them. */
    headers: Record<string, string>;
    body: Buffer;
    oidcToken?: { serviceAccountEmail: string; audience: string } | null;
  };
}

/** A running emulator with paused queues, and ways to look into it. */
export interface EmulatedTasks {
  /** `host:port`, for CLOUD_TASKS_EMULATOR_HOST. */
  readonly host: string;
  readonly emulator: Emulator;
  /** An official client connected to it (closed by `close`). */
  readonly client: CloudTasksClient;
  /** Every task in its queues (or in one queue), each queue in creation order, queues in the order given. */
  tasks(queue?: string): Promise<StoredTask[]>;
  /** CreateTask calls since start or the last reset, including refused ones. */
  createCalls(): number;
  /** Makes the next `count` CreateTask calls fail (default UNAVAILABLE, before creating). */
  fail(rule: Omit<Extract<FaultRuleInput, { kind: 'fail-create' }>, 'kind'>): void;
  /** Creates or reconfigures a queue (UpdateQueue), e.g. with a retry config for the drift check. */
  setQueue(queue: string, retry: { maxAttempts: number }): Promise<void>;
  /** Empties every queue, forgets task names and call counts, clears faults (between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Starts an emulator on a random loopback port with `queues` (full paths) created PAUSED. */
export async function startEmulatedTasks(queues: readonly string[]): Promise<EmulatedTasks> {
  const emulator = await startEmulator({ resetNamesOnPurge: true });
  const client = newEmulatorClient(emulator.address);
  const known = [...queues];
  for (const name of queues) {
    const parent = name.slice(0, name.indexOf('/queues/'));
    await client.createQueue({ parent, queue: { name } });
    await client.pauseQueue({ name });
  }
  let baseline = 0;
  return {
    host: emulator.address,
    emulator,
    client,
    async tasks(queue) {
      const out: StoredTask[] = [];
      for (const q of queue === undefined ? known : [queue]) {
        const [tasks] = await client.listTasks({ parent: q, responseView: 'FULL' });
        for (const t of tasks) {
          const http = t.httpRequest!;
          out.push({
            name: t.name!,
            queue: q,
            httpRequest: {
              url: http.url!,
              httpMethod: String(http.httpMethod),
              headers: { ...(http.headers ?? {}) },
              body: Buffer.from(http.body ?? []),
              oidcToken: http.oidcToken ? { serviceAccountEmail: http.oidcToken.serviceAccountEmail!, audience: http.oidcToken.audience! } : null,
            },
          });
        }
      }
      return out;
    },
    createCalls: () => emulator.faults.stats().createTaskCalls - baseline,
    fail(rule) {
      emulator.faults.add({ kind: 'fail-create', ...rule });
    },
    async setQueue(queue, retry) {
      await client.updateQueue({ queue: { name: queue, retryConfig: { maxAttempts: retry.maxAttempts } }, updateMask: { paths: ['retry_config.max_attempts'] } });
      if (!known.includes(queue)) known.push(queue);
    },
    async reset() {
      for (const q of known) await client.purgeQueue({ name: q });
      emulator.faults.clear();
      baseline = emulator.faults.stats().createTaskCalls;
    },
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}
