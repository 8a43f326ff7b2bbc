/**
 * The dashboard's pages as server-rendered HTML. Pure: data in, markup out; every value goes
 * through the escaping `html` template. Sections are independent functions so that new ones
 * (Pub/Sub topics, the enforced rate) slot into the overview without touching the others.
 */
import type { QueueSummary } from '../engine/engine.js';
import type { ThrottleState } from '../engine/throttle.js';
import type { QueueRecord, TaskRecord } from '../model.js';
import { shortId } from '../names.js';
import type { ChainView, NotificationView } from './chain.js';
import { decodeTaskBody } from './decode-body.js';
import { html, type Html } from './html.js';
import { pubsubSection, type PubSubView } from './pubsub-section.js';
import type { Bucket } from './series.js';

/** Seconds of activity the chain's charts and totals cover. */
export const CHART_SECONDS = 30;

/** What the overview shows. */
export interface OverviewData {
  queues: Array<QueueSummary & { rate: number; throttle?: ThrottleState }>;
  chain?: ChainView;
  /** Pub/Sub topics and subscriptions, when the emulator serves Pub/Sub. */
  pubsub?: PubSubView;
  /** Per tier (same order as chain.tiers): its queue's last minute, and the next tier's creations. */
  tierSeries: Array<{ delivered: Bucket[]; forwarded: Bucket[] }>;
  /** The notifier queue's activity over the same window. */
  notifierSeries?: Bucket[];
  /** The first dead letters, when the chain names a dead-letter queue. */
  deadLetters?: { tasks: TaskRecord[]; total: number };
  notifications?: readonly NotificationView[];
  /** Jobs notified since start, by outcome. */
  notificationTotals?: { succeeded: number; failed: number };
}

/** The whole page around a main section. */
export function layout(title: string, main: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Cloud Tasks emulator</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/ui/">Cloud Tasks emulator</a><span id="live" class="live" role="status" aria-live="polite">connecting…</span></header>
<div id="flash" class="flash" role="alert" aria-live="assertive"></div>
<main id="main">${main}</main>
</body>
</html>
`;
}

export const time = (ms: number | undefined): Html =>
  ms === undefined ? html`—` : html`<time datetime="${new Date(ms).toISOString()}">${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;

export const seconds = (ms: number): string => (ms >= 1000 ? `${+(ms / 1000).toFixed(3)}s` : `${ms}ms`);

const queueLink = (name: string): Html => html`<a href="/ui/queue?name=${encodeURIComponent(name)}">${shortId(name)}</a>`;
const taskLink = (name: string): Html => html`<a href="/ui/task?name=${encodeURIComponent(name)}">${shortId(name)}</a>`;

/** A stable, id-safe key for element ids (buttons keep focus across live refreshes by id). */
const key = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_');

function stateBadge(state: string): Html {
  return html`<span class="badge state-${state.toLowerCase()}">${state}</span>`;
}

function queueActions(q: QueueRecord): Html {
  const k = key(q.name);
  return html`<div class="actions">${
    q.state === 'RUNNING'
      ? html`<button type="button" id="pause-${k}" data-action="pause" data-queue="${q.name}">Pause</button>`
      : q.state === 'PAUSED'
        ? html`<button type="button" id="resume-${k}" data-action="resume" data-queue="${q.name}">Resume</button>`
        : ''
  }<button type="button" id="purge-${k}" class="danger" data-action="purge" data-queue="${q.name}">Purge</button></div>`;
}

/**
 * The rate the throttle lets the queue use now (issue 11's model), its recent error share, and a
 * Retry-After hold: shown next to the configured maximum, which the enforced rate stays under.
 */
export function enforcedRate(t: ThrottleState | undefined): Html {
  if (t === undefined) return html`—`;
  return html`<span data-enforced>${+t.enforcedRate.toFixed(2)}/s</span>${t.samples > 0 ? html`<div class="sub">errors ${Math.round(t.errorShare * 100)}% of ${t.samples}</div>` : ''}${t.heldUntilMs !== undefined ? html`<div class="sub held">held until ${time(t.heldUntilMs)}</div>` : ''}`;
}

function retrySummary(q: QueueRecord): string {
  const r = q.retryConfig;
  return `${r.maxAttempts === -1 ? 'unlimited' : r.maxAttempts} attempts, backoff ${seconds(r.minBackoffMs)}–${seconds(r.maxBackoffMs)}, ${r.maxDoublings} doublings`;
}

const parentOf = (name: string): string => name.replace(/\/queues\/[^/]+$/, '');

/** The queues table. */
export function queuesSection(queues: OverviewData['queues']): Html {
  const parents = new Set(queues.map((s) => parentOf(s.queue.name)));
  // One location (the usual case) is named once above the table rather than on every row.
  const oneParent = parents.size === 1 ? [...parents][0] : undefined;
  return html`<section aria-labelledby="queues-h"><h2 id="queues-h">Queues</h2>
${oneParent !== undefined ? html`<p class="sub">${oneParent}</p>` : ''}
${
  queues.length === 0
    ? html`<p>No queues yet. Create one with the API or a queues file.</p>`
    : html`<div class="scroll"><table class="queues"><thead><tr><th scope="col">Queue</th><th scope="col">State</th><th scope="col">Tasks</th><th scope="col">In flight</th><th scope="col">Dispatches/s</th><th scope="col">Enforced rate</th><th scope="col">Rate limits</th><th scope="col">Retries</th><th scope="col">Actions</th></tr></thead><tbody>
${queues.map(
  (s) =>
    html`<tr data-queue-row="${s.queue.name}"><th scope="row">${queueLink(s.queue.name)}${oneParent === undefined ? html`<div class="sub">${parentOf(s.queue.name)}</div>` : ''}</th><td data-label="State">${stateBadge(s.queue.state)}</td><td class="num" data-label="Tasks" data-tasks>${s.tasks}</td><td class="num" data-label="In flight">${s.inFlight}</td><td class="num" data-label="Dispatches/s">${s.rate.toFixed(1)}</td><td class="num" data-label="Enforced rate">${enforcedRate(s.throttle)}</td><td data-label="Rate limits">${s.queue.rateLimits.maxDispatchesPerSecond}/s, burst ${s.queue.rateLimits.maxBurstSize}, ${s.queue.rateLimits.maxConcurrentDispatches} concurrent</td><td data-label="Retries">${retrySummary(s.queue)}</td><td>${queueActions(s.queue)}</td></tr>\n`,
)}</tbody></table></div>`
}</section>`;
}

const sum = (b: Bucket[], f: (x: Bucket) => number): number => b.reduce((s, x) => s + f(x), 0);

/** A small line chart of one tier's last minute: deliveries, retries, forwards per second. */
export function tierChart(label: string, delivered: Bucket[], forwarded: Bucket[] | undefined): Html {
  const w = 240;
  const h = 56;
  const lines: Array<{ cls: string; values: number[] }> = [
    { cls: 'delivered', values: delivered.map((b) => b.dispatched) },
    { cls: 'retried', values: delivered.map((b) => b.failed) },
  ];
  if (forwarded !== undefined) lines.push({ cls: 'forwarded', values: forwarded.map((b) => b.created) });
  const max = Math.max(1, ...lines.flatMap((l) => l.values));
  const n = Math.max(1, delivered.length - 1);
  const points = (values: number[]): string =>
    values.map((v, i) => `${((i / n) * w).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  const totals = `${sum(delivered, (b) => b.dispatched)} delivered, ${sum(delivered, (b) => b.failed)} retried${forwarded !== undefined ? `, ${sum(forwarded, (b) => b.created)} forwarded` : ''}`;
  return html`<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${label}, last ${CHART_SECONDS} seconds: ${totals} (peak ${max}/s)" preserveAspectRatio="none">
<line class="axis" x1="0" y1="${h - 1}" x2="${w}" y2="${h - 1}"/>
${lines.map((l) => html`<polyline class="${l.cls}" fill="none" points="${points(l.values)}"/>`)}
</svg><figcaption>last ${CHART_SECONDS} s, peak ${max}/s</figcaption></figure>`;
}

/** The chain: tier 1 → tier 2 → … → notifier → webhook, with each tier's activity. */
export function chainSection(chain: ChainView, series: OverviewData['tierSeries'], queues: OverviewData['queues'], notifier?: Bucket[]): Html {
  const tasksOf = (name: string | undefined): number | undefined => queues.find((q) => q.queue.name === name)?.tasks;
  const last = chain.tiers.length - 1;
  return html`<section aria-labelledby="chain-h"><h2 id="chain-h">Chain</h2>
<p class="legend"><span class="key delivered">deliveries</span> <span class="key retried">retries</span> <span class="key forwarded">forwards</span> per second</p>
<ol class="chain">
${chain.tiers.map((t, i) => {
  const s = series[i]!;
  return html`<li class="hop" data-tier="${t.tier}"><h3>Tier ${t.tier}</h3>
<p>${queueLink(t.queue)} · MAX_ATTEMPTS ${t.maxAttempts} · ${tasksOf(t.queue) ?? 0} waiting</p>
<p class="totals">${sum(s.delivered, (b) => b.dispatched)} delivered · ${sum(s.delivered, (b) => b.failed)} retried${i < last ? html` · ${sum(s.forwarded, (b) => b.created)} forwarded` : ''} <span class="sub">(last ${CHART_SECONDS} s)</span></p>
${tierChart(`Tier ${t.tier}`, s.delivered, i < last ? s.forwarded : undefined)}
<p class="sub">${t.url}</p></li>`;
})}
${
  chain.notifierQueue !== undefined
    ? html`<li class="hop"><h3>Notifier</h3><p>${queueLink(chain.notifierQueue)} · ${tasksOf(chain.notifierQueue) ?? 0} waiting</p><p class="sub">to each job's webhook</p>${notifier !== undefined ? tierChart('Notifier', notifier, undefined) : ''}</li>`
    : ''
}
${
  chain.deadLetterQueue !== undefined
    ? html`<li class="hop"><h3>Dead letters</h3><p>${queueLink(chain.deadLetterQueue)} · <a href="#dl-h">${tasksOf(chain.deadLetterQueue) ?? 0} held</a></p><p class="sub">undecodable bodies, with the error</p></li>`
    : ''
}
</ol></section>`;
}

/** The error an executor recorded on a dead letter (its X-Executor-Error* headers). */
export function deadLetterError(t: TaskRecord): { type?: string; message?: string; tier?: string } {
  const get = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(t.http.headers)) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const out: { type?: string; message?: string; tier?: string } = {};
  const type = get('x-executor-error-type');
  const message = get('x-executor-error');
  const tier = get('x-executor-tier');
  if (type !== undefined) out.type = type;
  if (message !== undefined) out.message = message;
  if (tier !== undefined) out.tier = tier;
  return out;
}

function redriveButton(t: TaskRecord, chain: ChainView | undefined): Html {
  const tier1 = chain?.tiers[0];
  if (tier1 === undefined) return html``;
  return html`<button type="button" id="redrive-${key(t.name)}" data-action="redrive" data-task="${t.name}" data-target-queue="${tier1.queue}" data-target-url="${tier1.url}">Send back to tier 1</button>`;
}

function bodyBlock(t: TaskRecord, id: string, open: boolean): Html {
  const b = decodeTaskBody(t.http.body);
  return html`<details id="${id}" class="body"${open ? html` open` : ''}><summary>Body: ${b.label}, ${b.bytes} bytes</summary>
${b.executorError !== undefined ? html`<p class="sub">The executor would not accept it: ${b.executorError}</p>` : ''}<pre class="code" data-format="${b.format}">${b.text}</pre></details>`;
}

/** The dead letters: error, decoded body, redrive. */
export function deadLettersSection(queue: string, data: NonNullable<OverviewData['deadLetters']>, chain: ChainView | undefined): Html {
  return html`<section aria-labelledby="dl-h"><h2 id="dl-h">Dead letters <span class="count">${data.total}</span></h2>
<p class="sub">Bodies the executor could not decode, kept in ${queueLink(queue)} with the error. Send one back to tier 1 once the cause is fixed.</p>
${
  data.tasks.length === 0
    ? html`<p>None.</p>`
    : html`<ul class="cards">${data.tasks.map((t) => {
        const e = deadLetterError(t);
        return html`<li class="card dead-letter" data-task="${t.name}"><p>${taskLink(t.name)} · ${time(t.createTimeMs)}${e.tier !== undefined ? html` · from tier ${e.tier}` : ''}</p>
<p class="error"><strong>${e.type ?? 'Error'}</strong>: ${e.message ?? '(no error recorded)'}</p>
${bodyBlock(t, `dl-body-${key(t.name)}`, false)}
<div class="actions">${redriveButton(t, chain)}<button type="button" id="delete-${key(t.name)}" class="danger" data-action="delete" data-task="${t.name}">Delete</button></div></li>`;
      })}</ul>${data.total > data.tasks.length ? html`<p>${queueLink(queue)}: ${data.total - data.tasks.length} more.</p>` : ''}`
}</section>`;
}

/** Notifications listed on the overview (the webhook's JSON has more). */
const NOTIFICATIONS_SHOWN = 10;

/** The webhook's last notifications with their bodies. */
export function notificationsSection(list: readonly NotificationView[], jsonUrl: string, totals?: { succeeded: number; failed: number }): Html {
  return html`<section aria-labelledby="n-h"><h2 id="n-h">Last notifications${totals !== undefined ? html` <span class="count">of ${totals.succeeded + totals.failed} jobs: <span class="outcome-succeeded">${totals.succeeded} succeeded</span>, <span class="outcome-failed">${totals.failed} failed</span></span>` : ''}</h2>
<p class="sub">As the webhook received them, newest first (more as JSON: <a href="${jsonUrl}">${jsonUrl}</a>).</p>
${
  list.length === 0
    ? html`<p>None yet.</p>`
    : html`<div class="scroll"><table class="notifications"><thead><tr><th scope="col">Job</th><th scope="col">Outcome</th><th scope="col">Format</th><th scope="col">Tier</th><th scope="col">Attempts</th><th scope="col">Received</th><th scope="col">Body</th></tr></thead><tbody>
${list.slice(0, NOTIFICATIONS_SHOWN).map(
  (n) =>
    html`<tr class="notification" data-job="${n.jobId ?? ''}"><th scope="row">${n.jobId ?? '(no id)'}</th><td><span class="badge outcome-${n.outcome}">${n.outcome}</span>${n.error !== undefined ? html`<div class="error">${n.error}</div>` : ''}</td><td>${n.format}</td><td class="num">${n.tier ?? '—'}</td><td class="num">${n.attempts ?? '—'}</td><td>${time(n.receivedAt)}</td><td><details><summary>Show</summary><pre class="code">${n.body}</pre></details></td></tr>\n`,
)}</tbody></table></div>`
}</section>`;
}

/** The overview: chain, queues, dead letters, notifications. */
export function overviewMain(d: OverviewData): Html {
  const sections: Html[] = [];
  if (d.chain !== undefined && d.chain.tiers.length > 0) sections.push(chainSection(d.chain, d.tierSeries, d.queues, d.notifierSeries));
  sections.push(queuesSection(d.queues));
  if (d.deadLetters !== undefined && d.chain?.deadLetterQueue !== undefined) sections.push(deadLettersSection(d.chain.deadLetterQueue, d.deadLetters, d.chain));
  if (d.pubsub !== undefined) sections.push(pubsubSection(d.pubsub));
  if (d.notifications !== undefined && d.chain?.webhook !== undefined) sections.push(notificationsSection(d.notifications, d.chain.webhook.notificationsUrl, d.notificationTotals));
  return html`<h1>Overview</h1>${sections}`;
}

/** One queue: settings, actions, a page of its tasks. */
export function queueMain(q: QueueSummary & { throttle?: ThrottleState }, tasks: TaskRecord[], nextPageToken: string, pageToken: string | undefined): Html {
  const r = q.queue;
  const base = `/ui/queue?name=${encodeURIComponent(r.name)}`;
  return html`<nav aria-label="Breadcrumb"><a href="/ui/">Overview</a> › ${shortId(r.name)}</nav>
<h1>Queue ${shortId(r.name)} ${stateBadge(r.state)}</h1>
<p class="sub">${r.name}</p>
<dl class="facts"><dt>Tasks</dt><dd data-tasks>${q.tasks}</dd><dt>In flight</dt><dd>${q.inFlight}</dd><dt>Enforced rate</dt><dd>${enforcedRate(q.throttle)}</dd><dt>Rate limits</dt><dd>${r.rateLimits.maxDispatchesPerSecond}/s, burst ${r.rateLimits.maxBurstSize}, ${r.rateLimits.maxConcurrentDispatches} concurrent</dd><dt>Retries</dt><dd>${retrySummary(r)}${r.retryConfig.maxRetryDurationMs > 0 ? `, for at most ${seconds(r.retryConfig.maxRetryDurationMs)}` : ''}</dd>${r.purgeTimeMs !== undefined ? html`<dt>Purged</dt><dd>${time(r.purgeTimeMs)}</dd>` : ''}</dl>
${queueActions(r)}
<section aria-labelledby="tasks-h"><h2 id="tasks-h">Tasks</h2>
${
  tasks.length === 0
    ? html`<p>No tasks${pageToken !== undefined ? ' on this page' : ''}.</p>`
    : html`<div class="scroll"><table class="tasks"><thead><tr><th scope="col">Task</th><th scope="col">Next attempt</th><th scope="col">Dispatches</th><th scope="col">Last attempt</th><th scope="col">Actions</th></tr></thead><tbody>
${tasks.map(
  (t) =>
    html`<tr data-task-row="${t.name}"><th scope="row">${taskLink(t.name)}</th><td>${t.inFlight > 0 ? 'in flight' : time(t.scheduleTimeMs)}</td><td class="num">${t.dispatchCount}</td><td>${lastAttempt(t)}</td><td><div class="actions"><button type="button" id="run-${key(t.name)}" data-action="run" data-task="${t.name}">Run now</button><button type="button" id="delete-${key(t.name)}" class="danger" data-action="delete" data-task="${t.name}">Delete</button></div></td></tr>\n`,
)}</tbody></table></div>`
}
<nav class="pager" aria-label="Pages">${pageToken !== undefined ? html`<a href="${base}">First page</a>` : ''}${nextPageToken !== '' ? html`<a href="${base}&amp;page=${encodeURIComponent(nextPageToken)}" rel="next">Next page</a>` : ''}</nav>
</section>`;
}

function lastAttempt(t: TaskRecord): Html {
  const a = t.lastAttempt;
  if (a === undefined) return html`—`;
  const status = t.previousResponse !== undefined ? `HTTP ${t.previousResponse}` : (a.responseStatus?.message ?? 'in flight');
  return html`${status} · ${time(a.responseTimeMs ?? a.dispatchTimeMs)}`;
}

/** One task: decoded body, headers, attempts, actions. */
export function taskMain(t: TaskRecord, chain: ChainView | undefined): Html {
  const isDeadLetter = chain?.deadLetterQueue === t.queueName;
  const e = isDeadLetter ? deadLetterError(t) : undefined;
  const attempts = [
    ['First attempt', t.firstAttempt],
    ['Last attempt', t.lastAttempt],
  ] as const;
  const auth = t.http.auth;
  return html`<nav aria-label="Breadcrumb"><a href="/ui/">Overview</a> › ${queueLink(t.queueName)} › ${t.id}</nav>
<h1>Task ${t.id}</h1>
<p class="sub">${t.name}</p>
${e !== undefined ? html`<p class="error"><strong>${e.type ?? 'Error'}</strong>: ${e.message ?? '(no error recorded)'}</p>` : ''}
<div class="actions">${isDeadLetter ? redriveButton(t, chain) : ''}<button type="button" id="run-${key(t.name)}" data-action="run" data-task="${t.name}">Run now</button><button type="button" id="delete-${key(t.name)}" class="danger" data-action="delete" data-task="${t.name}" data-after="/ui/queue?name=${encodeURIComponent(t.queueName)}">Delete</button></div>
<dl class="facts"><dt>Target</dt><dd>${t.http.httpMethod} ${t.http.url}</dd><dt>Auth</dt><dd>${auth === undefined ? 'none' : `${auth.kind === 'oidc' ? 'OIDC token' : 'OAuth token'} of ${auth.serviceAccountEmail}`}</dd><dt>Created</dt><dd>${time(t.createTimeMs)}</dd><dt>Next attempt</dt><dd>${t.inFlight > 0 ? 'in flight' : time(t.scheduleTimeMs)}</dd><dt>Dispatches</dt><dd>${t.dispatchCount} (${t.responseCount} answered)</dd><dt>Deadline</dt><dd>${seconds(t.dispatchDeadlineMs)}</dd></dl>
${bodyBlock(t, 'task-body', true)}
<section aria-labelledby="headers-h"><h2 id="headers-h">Headers</h2>
${Object.keys(t.http.headers).length === 0 ? html`<p>None.</p>` : html`<table class="kv"><tbody>${Object.entries(t.http.headers).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>`}
</section>
<section aria-labelledby="attempts-h"><h2 id="attempts-h">Attempts</h2>
<table class="kv"><tbody>${attempts.map(
  ([label, a]) =>
    html`<tr><th scope="row">${label}</th><td>${a === undefined ? '—' : html`dispatched ${time(a.dispatchTimeMs)}${a.responseTimeMs !== undefined ? html`, answered ${time(a.responseTimeMs)}` : ''}${a.responseStatus !== undefined ? ` — ${a.responseStatus.message}` : ''}`}</td></tr>`,
)}</tbody></table>
</section>`;
}

/** A page for a missing queue or task. */
export function notFoundMain(message: string): Html {
  return html`<nav aria-label="Breadcrumb"><a href="/ui/">Overview</a></nav><h1>Not found</h1><p>${message}</p>`;
}
