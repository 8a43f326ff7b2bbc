/**
 * The webhook receiver of the local stack — the original demo client's listener. It decodes every
 * notification the notifier queue delivers (SvcWorkResponse binary or JSON, or the JSON envelope
 * notification), counts outcomes per job id, and answers:
 *
 * - `POST /results` — a Pub/Sub push of an outcome message from the results topic: counted once per
 *   `eventId` (a redelivered push publishes the same event again; those are counted as redelivered,
 *   not as duplicates), always acked with 200 — a body that is no notification would never get
 *   better, and a nack would slow the whole subscription.
 * - `POST /dead-letter` — a dead-letter task (the dead-letter queue is paused locally, so this only
 *   happens when someone resumes it): counted, 200.
 * - `POST` any other path — a notification: 200 when it decodes, 400 when it does not (the notifier
 *   queue then keeps it for inspection rather than the webhook swallowing garbage).
 * - `GET /stats` — the counts as JSON; `GET /notifications` — the last 50 notifications with their
 *   bodies, newest first; `GET /health` — 200.
 * - `GET /notifications?jobId=A&jobId=B[&wait=S]` — those jobs' (first) notifications and the ids
 *   still pending; with `wait`, held up to S seconds until one of them is notified: what
 *   `executor submit --wait` follows its jobs with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { makeLogger } from '../log.js';
import { z } from 'zod';
import { JobNotifications, MAX_WAIT_SECONDS } from './job-notifications.js';
import { decodeNotification, type DecodedNotification } from './notification.js';
import { notificationView, RecentNotifications } from './recent.js';
import { Tally } from './tally.js';
import { formatIssues, messageOf } from '../errors.js';
import { unwrapPubSub } from '../executor/pubsub-envelope.js';
import { integerText } from '../text-values.js';
import { RESULTS_PATH } from './defaults.js';

/** Notifications are small; anything bigger than Cloud Tasks' task limit is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Job ids one `GET /notifications?jobId=…` may ask about (the URL stays well under header limits). */
export const MAX_JOB_IDS_PER_QUERY = 100;

/** The query of `GET /notifications` by job id. */
const jobsQuery = z.object({
  jobId: z.array(z.string().min(1, 'jobId must not be empty').max(200, 'jobId is at most 200 characters')).max(MAX_JOB_IDS_PER_QUERY, `at most ${MAX_JOB_IDS_PER_QUERY} jobId per request`),
  wait: integerText(0, MAX_WAIT_SECONDS, `wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`).optional(),
});

/** Options for {@link startWebhook}. */
export interface WebhookOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Where to log; silent by default. */
  logger?: Logger;
  /** Called after each decoded notification is counted, with the notification task's name (X-CloudTasks-TaskName). */
  onNotification?: (n: DecodedNotification, delivery: { task?: string }) => void;
  /**
   * Whether to accept this notification; a refused one is answered 500 and not counted, so the
   * notifier queue delivers it again (a flapping client, for chaos runs). Default: accept all.
   */
  accept?: (n: DecodedNotification) => boolean;
}

/** A running webhook receiver. */
export interface Webhook {
  /** Bound interface. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:40123`; notifications go to `${url}/notify`. */
  readonly url: string;
  /** The counts. */
  readonly tally: Tally;
  /** Outcomes received from the results topic, one per eventId. */
  readonly results: Tally;
  /** Outcome messages whose eventId had been seen already (at-least-once publishing). */
  readonly resultsRedelivered: () => number;
  /** The last notifications with their bodies. */
  readonly recent: RecentNotifications;
  /** The first notification of each (recent) job, by id. */
  readonly byJob: JobNotifications;
  /** Stops listening. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the webhook receiver. */
export async function startWebhook(options: WebhookOptions = {}): Promise<Webhook> {
  const logger = options.logger ?? makeLogger({ level: 'silent' });
  const tally = new Tally();
  const results = new Tally();
  const events = new Set<string>();
  let redelivered = 0;
  const recent = new RecentNotifications();
  const byJob = new JobNotifications();

  /** `GET /notifications?jobId=…`: those jobs' notifications, waiting for one with `wait`. */
  const jobsAnswer = async (res: ServerResponse, params: URLSearchParams): Promise<void> => {
    const q = jobsQuery.safeParse({ jobId: params.getAll('jobId'), ...(params.has('wait') ? { wait: params.get('wait') } : {}) });
    if (!q.success) return send(res, 400, { error: formatIssues(q.error.issues, (path) => String(path[0] ?? '')).join('; ') });
    // A client that gives up (or a webhook that closes) ends the wait instead of leaving it parked.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const answer = await byJob.wait(q.data.jobId, (q.data.wait ?? 0) * 1000, gone.signal);
    if (!res.destroyed) send(res, 200, answer);
  };

  /** One outcome message pushed from the results topic. */
  const handleResult = (res: ServerResponse, body: Buffer): void => {
    const unwrapped = unwrapPubSub(body);
    if (unwrapped.kind !== 'envelope') {
      results.recordUndecodable();
      logger.error({ bytes: body.length }, 'results push is not a Pub/Sub envelope');
      return send(res, 200, { received: 'undecodable' });
    }
    const { attributes } = unwrapped.facts;
    const eventId = attributes.eventId;
    if (eventId !== undefined && events.has(eventId)) {
      redelivered += 1;
      return send(res, 200, { received: 'redelivered' });
    }
    if (eventId !== undefined) events.add(eventId);
    if (attributes.outcome === 'dead-lettered') {
      results.recordDeadLetter();
      logger.warn({ eventId, origin: attributes.origin }, 'dead-letter outcome received');
      return send(res, 200, { received: 'dead-lettered' });
    }
    try {
      // The body must be the notification itself; the attributes are what a subscriber filters on.
      decodeNotification(unwrapped.data);
    } catch (err) {
      results.recordUndecodable();
      logger.error({ eventId, err: messageOf(err) }, 'undecodable outcome message');
      return send(res, 200, { received: 'undecodable' });
    }
    const outcome = attributes.outcome === 'succeeded' || attributes.outcome === 'failed' ? attributes.outcome : undefined;
    if (outcome === undefined) {
      results.recordUndecodable();
      return send(res, 200, { received: 'undecodable' });
    }
    const tier = Number(attributes.tier);
    results.record({ outcome, ...(attributes.jobId !== undefined ? { jobId: attributes.jobId } : {}), ...(Number.isInteger(tier) ? { tier } : {}) });
    logger.info({ eventId, jobId: attributes.jobId, outcome, tier: attributes.tier, attempts: attributes.attempts }, `result ${attributes.jobId ?? '(no id)'} ${outcome}`);
    return send(res, 200, { received: outcome });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/stats') {
      return send(res, 200, { ...tally.snapshot(), jobs: tally.jobsNotified, results: { ...results.snapshot(), jobs: results.jobsNotified, redelivered } });
    }
    if (req.method === 'GET' && path === '/notifications') {
      const params = new URLSearchParams(query);
      if (params.has('jobId')) return jobsAnswer(res, params);
      if (params.has('wait')) return send(res, 400, { error: 'wait needs at least one jobId: GET /notifications?jobId=ID&wait=SECONDS' });
      return send(res, 200, { notifications: recent.list() });
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'POST a notification, or GET /stats, /notifications or /health' });

    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `notification larger than ${MAX_BODY_BYTES} bytes` });
    if (path === RESULTS_PATH) return handleResult(res, body);
    const task = req.headers['x-cloudtasks-taskname'];
    if (path === '/dead-letter') {
      tally.recordDeadLetter();
      logger.warn({ task, bytes: body.length }, 'dead-letter task received');
      return send(res, 200, { received: 'dead-letter' });
    }
    let n: DecodedNotification;
    try {
      n = decodeNotification(body);
    } catch (err) {
      tally.recordUndecodable();
      const message = messageOf(err);
      logger.error({ task, bytes: body.length, err: message }, 'undecodable notification');
      return send(res, 400, { error: message });
    }
    if (options.accept !== undefined && !options.accept(n)) return send(res, 500, { error: 'refused (flapping on purpose)' });
    tally.record({
      outcome: n.outcome,
      ...(n.jobId !== undefined ? { jobId: n.jobId } : {}),
      ...(n.tier !== undefined ? { tier: n.tier } : {}),
    });
    const view = notificationView(body, n);
    recent.add(view);
    byJob.add(view);
    // The job id and the error are the client's own bookkeeping, not payload: safe to log.
    logger.info(
      { task, jobId: n.jobId, outcome: n.outcome, format: n.format, tier: n.tier, attempts: n.attempts, error: n.error },
      `job ${n.jobId ?? '(no id)'} ${n.outcome}`,
    );
    options.onNotification?.(n, typeof task === 'string' ? { task } : {});
    return send(res, 200, { received: n.outcome });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: messageOf(err) }, 'webhook request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // Cloud Tasks (and the emulator) reuse connections; keep them open longer than their pool does.
  server.keepAliveTimeout = 65_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    tally,
    results,
    resultsRedelivered: () => redelivered,
    recent,
    byJob,
    close: () =>
      new Promise<void>((resolve, reject) => {
        byJob.wakeAll();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
