/**
 * The emulator's web dashboard: `GET /` for browsers and everything under `/ui/`, on the
 * emulator's own port. Pages are rendered on the server from the engine's public reads; the
 * buttons call the emulator's REST API from the page, so every action takes the same path as any
 * client's; live updates are server-sent events driven by the engine's change events (and the
 * Pub/Sub engine's, when there is one).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { ApiError } from '../status.js';
import type { Engine, QueueStats } from '../engine/engine.js';
import type { PubSubEngine } from '../pubsub/engine.js';
import { parseQueueName } from '../names.js';
import { SCRIPT, STYLES } from './assets.js';
import type { ChainView } from './chain.js';
import type { Html } from './html.js';
import { LiveUpdates } from './live.js';
import { CHART_SECONDS, layout, notFoundMain, overviewMain, queueMain, taskMain, type OverviewData } from './render.js';
import { QueueSeries } from './series.js';

/** Tasks per page of a queue's task list. */
const TASKS_PER_PAGE = 50;
/** Dead letters listed on the overview. */
const DEAD_LETTERS_SHOWN = 20;

/** What the page may load: its own script, style and event stream; nothing inline, nothing foreign. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The dashboard of one emulator. */
export interface Dashboard {
  /** Serves the request when it is the dashboard's; returns false to let the API have it. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Shows the chain around the emulator (tiers, notifier, dead letters, notifications). */
  setChain(chain: ChainView | undefined): void;
  /** Ends the event streams and stops watching the engine. */
  close(): void;
}

/** Whether a `GET /` comes from a browser (which asks for HTML) rather than a health check. */
function wantsHtml(req: IncomingMessage): boolean {
  return /\btext\/html\b/.test(req.headers.accept ?? '');
}

/**
 * Makes the dashboard over an engine. (A closure over the engine, the series and the live stream:
 * the routes below share them, and each route's handler is short.)
 */
export function makeDashboard(options: { engine: Engine; logger: Logger; pubsub?: PubSubEngine }): Dashboard {
  const { engine, pubsub } = options;
  const series = new QueueSeries();
  const live = new LiveUpdates();
  let chain: ChainView | undefined;
  const stop = engine.onChange((change) => {
    series.record(change);
    live.changed();
  });
  const stopPubSub = pubsub?.onChange(() => live.changed());

  /** Each queue's throttle state (enforced rate, error share, hold), by queue name. */
  const throttles = (): Map<string, QueueStats> => new Map(engine.queueStats().map((q) => [q.queue, q]));
  const withThrottle = <T extends { queue: { name: string } }>(s: T, all: Map<string, QueueStats>): T & { throttle?: QueueStats } => {
    const t = all.get(s.queue.name);
    return t === undefined ? s : { ...s, throttle: t };
  };

  const overview = (): Html => {
    const all = throttles();
    const queues = engine.queueSummaries().map((s) => withThrottle({ ...s, rate: series.dispatchRate(s.queue.name) }, all));
    const data: OverviewData = { queues, tierSeries: [] };
    if (pubsub !== undefined) {
      const { topics, subscriptions } = pubsub.everything();
      data.pubsub = { topics, subscriptions: subscriptions.map((record) => ({ record, counts: pubsub.subscriptionCounts(record.name) })) };
    }
    if (chain !== undefined) {
      data.chain = chain;
      data.tierSeries = chain.tiers.map((t, i) => ({
        delivered: series.window(t.queue, CHART_SECONDS),
        forwarded: series.window(chain!.tiers[i + 1]?.queue ?? '', CHART_SECONDS),
      }));
      if (chain.notifierQueue !== undefined) data.notifierSeries = series.window(chain.notifierQueue, CHART_SECONDS);
      const dl = chain.deadLetterQueue;
      const dlSummary = dl === undefined ? undefined : queues.find((q) => q.queue.name === dl);
      if (dl !== undefined && dlSummary !== undefined) data.deadLetters = { tasks: engine.listTasks(dl, DEAD_LETTERS_SHOWN).items, total: dlSummary.tasks };
      if (chain.webhook !== undefined) {
        data.notifications = chain.webhook.notifications();
        const totals = chain.webhook.totals?.();
        if (totals !== undefined) data.notificationTotals = totals;
      }
    }
    return overviewMain(data);
  };

  const route = (path: string, url: URL): { title: string; main: Html; status: number } => {
    if (path === '/' || path === '/ui' || path === '/ui/') return { title: 'Overview', main: overview(), status: 200 };
    try {
      if (path === '/ui/queue') {
        const name = parseQueueName(url.searchParams.get('name') ?? '').name;
        const summary = engine.queueSummaries().find((s) => s.queue.name === name);
        if (summary === undefined) engine.getQueue(name); // throws NOT_FOUND with the API's message
        const token = url.searchParams.get('page') ?? undefined;
        const page = engine.listTasks(name, TASKS_PER_PAGE, token);
        return { title: `Queue ${summary!.queue.name}`, main: queueMain(withThrottle(summary!, throttles()), page.items, page.nextPageToken, token), status: 200 };
      }
      if (path === '/ui/task') {
        const task = engine.getTask(url.searchParams.get('name') ?? '');
        return { title: `Task ${task.id}`, main: taskMain(task, chain), status: 200 };
      }
    } catch (err) {
      if (err instanceof ApiError) return { title: 'Not found', main: notFoundMain(err.message), status: err.status === 'NOT_FOUND' ? 404 : 400 };
      throw err;
    }
    return { title: 'Not found', main: notFoundMain(`No dashboard page at ${path}.`), status: 404 };
  };

  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, {
      'content-type': `${type}; charset=utf-8`,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };

  return {
    handle(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/' ? !wantsHtml(req) : path !== '/ui' && !path.startsWith('/ui/')) return false;
      if (path === '/ui/app.css') send(res, 200, 'text/css', STYLES);
      else if (path === '/ui/app.js') send(res, 200, 'text/javascript', SCRIPT);
      else if (path === '/ui/events') live.open(req, res);
      else {
        const url = new URL(req.url ?? '/', 'http://emulator');
        const page = route(path, url);
        const fragment = req.headers['x-dashboard-fragment'] === 'main';
        send(res, page.status, 'text/html', fragment ? page.main.value : layout(page.title, page.main).value);
      }
      return true;
    },
    setChain(next) {
      chain = next;
      live.changed();
    },
    close() {
      stop();
      stopPubSub?.();
      live.close();
    },
  };
}
