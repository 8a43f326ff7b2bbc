/**
 * firebase-admin unchanged, end to end: the real package's `getFunctions().taskQueue(…).enqueue(…)`
 * against the local stack (emulator + tiers). It sends `httpRequest.url: ""` and the emulated
 * identity; the stack's default targets and allow list take them to tier 1, whose executor
 * decodes the `{"data": …}` body with `data` as the job's payload.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getFunctions } from 'firebase-admin/functions';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIREBASE_EMULATED_SERVICE_ACCOUNT } from '../../src/local/defaults.js';
import { parseDevArgs, type DevOptions } from '../../src/local/dev-args.js';
import { startStack, type Stack } from '../../src/local/stack.js';

let stack: Stack;
let app: App;
const saved = { ...process.env };

beforeAll(async () => {
  const options = parseDevArgs(['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0', '--jobs', '0']) as DevOptions;
  stack = await startStack(options, pino({ level: 'silent' }));
  // What a user sets next to `npm start`; no Google credentials anywhere, no metadata server probe.
  process.env.CLOUD_TASKS_EMULATOR_HOST = stack.emulator.address;
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.GOOGLE_APPLICATION_CREDENTIALS = join(mkdtempSync(join(tmpdir(), 'no-adc-')), 'none.json');
  app = initializeApp({ projectId: 'local-project' }, `firebase-e2e-${process.pid}`);
}, 60_000);

afterAll(async () => {
  process.env = saved;
  if (app !== undefined) await deleteApp(app);
  await stack?.close();
});

/** The task firebase-admin created, as the emulator stored it (REST, FULL view). */
async function storedTasks(queue: string): Promise<{ httpRequest: { url: string; oidcToken?: { serviceAccountEmail: string } } }[]> {
  const parent = stack.incomingQueue.replace(/[^/]+$/, queue);
  const res = await fetch(`${stack.emulator.url}/v2/${parent}/tasks?responseView=FULL`);
  return ((await res.json()) as { tasks?: [] }).tasks ?? [];
}

describe('firebase-admin against the local stack', () => {
  it('enqueues with an empty url and the emulated identity; the task runs on tier 1 with data as its payload', async () => {
    // Paused first, to read the stored task back before it runs.
    await fetch(`${stack.emulator.url}/v2/${stack.incomingQueue}:pause`, { method: 'POST' });
    await getFunctions(app).taskQueue('incoming').enqueue({ sourceFile: 'gs://demo-bucket/report.pdf' });
    const [task] = await storedTasks('incoming');
    expect(task?.httpRequest.url).toBe(`${stack.tiers[0]!.url}/`);
    expect(task?.httpRequest.oidcToken?.serviceAccountEmail).toBe(FIREBASE_EMULATED_SERVICE_ACCOUNT);
    await fetch(`${stack.emulator.url}/v2/${stack.incomingQueue}:resume`, { method: 'POST' });
    await stack.emulator.waitForIdle({ timeoutMs: 20_000 });
    const tier1 = await stack.tiers[0]!.counters();
    expect(tier1).toMatchObject({ delivered: 1, retried: 0, forwarded: 0, authRejected: 0 });
  }, 30_000);

  it('hands `data` to the handler: a job the demo fails spends tier 1, moves to tier 2 and ends there', async () => {
    const before = await stack.tiers[0]!.counters();
    await getFunctions(app).taskQueue('locations/us-central1/functions/incoming').enqueue({ sourceFile: 'invalid' });
    await stack.emulator.waitForIdle({ timeoutMs: 20_000 });
    const tier1 = await stack.tiers[0]!.counters();
    const tier2 = await stack.tiers[1]!.counters();
    expect(tier1.forwarded - before.forwarded).toBe(1);
    expect(tier1.authRejected).toBe(0);
    expect(tier2).toMatchObject({ delivered: 3, retried: 2, authRejected: 0 });
  }, 30_000);
});
