/**
 * The dashboard in a real headless Chromium against the whole local stack (emulator, two tiers,
 * webhook): what a user sees and clicks. One browser and one stack for the file; tests run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import pino from 'pino';
import { planBatch, submitBatch } from '../../../src/local/batch.js';
import { GOOD_SOURCE_FILE, LOCAL_SERVICE_ACCOUNT } from '../../../src/local/defaults.js';
import { parseDevArgs, type DevOptions } from '../../../src/local/dev-args.js';
import { startStack, type Stack } from '../../../src/local/stack.js';
import { encodeRequest } from '../../../src/local/wire.js';
import { chromiumUnavailable, launchChromium, type Chromium } from '../../helpers/chromium.js';

const missing = chromiumUnavailable();
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (missing !== undefined && !inCi) console.warn(`Skipping the dashboard's browser tests: ${missing}.`);

let stack: Stack;
let browser: Chromium;
let page: Page;
let queues: string;

/** Calls the emulator's REST API. */
async function rest(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.emulator.url}/v2/${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** Creates a task in a queue of the stack, its body given as bytes. */
function createTask(queue: string, url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return rest('POST', `${queues}/${queue}/tasks`, {
    task: {
      httpRequest: { url, httpMethod: 'POST', body: body.toString('base64'), headers, oidcToken: { serviceAccountEmail: LOCAL_SERVICE_ACCOUNT } },
    },
  });
}

async function queueState(queue: string): Promise<unknown> {
  return (await rest('GET', `${queues}/${queue}`)).state;
}

const row = (queue: string): string => `tr[data-queue-row="${queues}/${queue}"]`;

describe.skipIf(missing !== undefined && !inCi)('the dashboard in Chromium', () => {
  beforeAll(async () => {
    // In CI a missing browser is a failure with the fix in the message, never a silent skip.
    if (missing !== undefined) throw new Error(missing);
    const options = parseDevArgs(['--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0', '--jobs', '0']) as DevOptions;
    stack = await startStack(options, pino({ level: 'silent' }));
    queues = stack.incomingQueue.replace(/\/[^/]+$/, '');
    browser = await launchChromium({ width: 1100, height: 900 });
    page = await browser.context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('is what a browser gets at / while API clients still get JSON there', async () => {
    await page.goto(`${stack.emulator.url}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await page.locator(row('incoming')).waitFor();
    const res = await fetch(`${stack.emulator.url}/`);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('shows each queue\'s enforced rate, and a new Pub/Sub topic live without a reload', async () => {
    await expect(page.locator(`${row('incoming')} [data-enforced]`).textContent()).resolves.toMatch(/^[\d.]+\/s$/);
    const res = await fetch(`${stack.emulator.url}/v1/projects/p/topics/browser-topic`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    await page.locator('[data-topic="projects/p/topics/browser-topic"]').waitFor();
  });

  it('pauses a queue from its button, through the API', async () => {
    await page.locator(`${row('incoming')} button[data-action="pause"]`).click();
    await page.locator(`${row('incoming')} .badge.state-paused`).waitFor();
    expect(await queueState('incoming')).toBe('PAUSED');
  });

  it('shows the tasks of a submitted batch, and a new one live without a reload', async () => {
    // The demo batch's own submission path: the official client, one binary, one JSON, one envelope job.
    await submitBatch(stack.client, planBatch(3, 0, 'mixed', 'batch'), {
      queue: stack.incomingQueue,
      url: `${stack.tiers[0]!.url}/`,
      webhookUrl: stack.webhookUrl,
      serviceAccount: LOCAL_SERVICE_ACCOUNT,
      endpoint: { emulatorHost: stack.emulator.address },
    });
    await page.goto(`${stack.emulator.url}/ui/queue?name=${encodeURIComponent(`${queues}/incoming`)}`);
    await expect(page.locator('tr[data-task-row]').count()).resolves.toBe(3);
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });
    await createTask('incoming', `${stack.tiers[0]!.url}/`, encodeRequest({ sourceFile: GOOD_SOURCE_FILE, webhookUrl: stack.webhookUrl, context: { id: 'live-1' } }, 'binary'));
    await page.locator('tr[data-task-row]').nth(3).waitFor();
    // Same document: the row came over the event stream, not from a navigation.
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    await expect(page.locator('dd[data-tasks]').textContent()).resolves.toBe('4');
  });

  it('decodes a binary SvcWorkRequest body on the task page', async () => {
    await page.locator('tr[data-task-row] a').first().click();
    await page.locator('#task-body').waitFor();
    await expect(page.locator('#task-body summary').textContent()).resolves.toContain('SvcWorkRequest (binary protobuf)');
    await expect(page.locator('#task-body pre').textContent()).resolves.toContain(GOOD_SOURCE_FILE);
  });

  it('renders a body containing <script> as text, and never runs it', async () => {
    const evil = '{"payload":"</pre><script>window.injected = 1</script><img src=x onerror=\\"window.injected = 2\\">"}';
    const task = await createTask('incoming', `${stack.tiers[0]!.url}/`, Buffer.from(evil));
    await page.goto(`${stack.emulator.url}/ui/task?name=${encodeURIComponent(String(task.name))}`);
    await expect(page.locator('#task-body pre').textContent()).resolves.toContain('<script>window.injected = 1</script>');
    await expect(page.locator('main script, main img').count()).resolves.toBe(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
  });

  it('resumes the queue from its button and the batch drains live', async () => {
    await page.goto(`${stack.emulator.url}/ui/`);
    await page.locator(`${row('incoming')} button[data-action="resume"]`).click();
    await page.locator(`${row('incoming')} .badge.state-running`).waitFor();
    expect(await queueState('incoming')).toBe('RUNNING');
    await page.locator(`${row('incoming')} td[data-tasks]`, { hasText: /^0$/ }).waitFor();
    await page.locator('.notification[data-job="live-1"]').waitFor();
    for (const id of ['batch-1', 'batch-2', 'batch-3']) await page.locator(`.notification[data-job="${id}"] .badge.outcome-succeeded`).waitFor();
  });

  it('lists a dead letter with its error and its body decoded', async () => {
    // Not JSON, not a SvcWorkRequest: tier 1 puts it on the (paused) dead-letter queue.
    await createTask('incoming', `${stack.tiers[0]!.url}/`, Buffer.from([0xff, 0x00, 0x13, 0x37]));
    const card = page.locator('.dead-letter').first();
    await card.waitFor();
    await expect(card.locator('.error').textContent()).resolves.toMatch(/not a binary SvcWorkRequest/);
    await card.locator('summary').click();
    await expect(card.locator('pre').textContent()).resolves.toContain('ff 00 13 37');
  });

  it('sends a dead letter back to tier 1, and its notification arrives on the page', async () => {
    // A dead letter an older tier could not decode, whose body tier 1 accepts now.
    const body = encodeRequest({ sourceFile: GOOD_SOURCE_FILE, webhookUrl: stack.webhookUrl, context: { id: 'redriven-1' } }, 'binary');
    const dl = await createTask('dead-letter', `${stack.webhook.url}/dead-letter`, body, {
      'Content-Type': 'application/x-protobuf',
      'X-Executor-Error-Type': 'UndecodableBodyError',
      'X-Executor-Error': 'from an older executor',
    });
    const card = page.locator(`.dead-letter[data-task="${String(dl.name)}"]`);
    await card.locator('button[data-action="redrive"]').click();
    await page.locator('.notification[data-job="redriven-1"] .badge.outcome-succeeded').waitFor();
    await expect(card.count()).resolves.toBe(0);
    expect(stack.webhook.tally.job('redriven-1')?.outcomes).toEqual(['succeeded']);
  });
});
