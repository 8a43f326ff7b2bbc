/**
 * The dashboard's stylesheet and script, served as files (`/ui/app.css`, `/ui/app.js`) so the
 * page's Content-Security-Policy can forbid inline script. Plain CSS and browser JavaScript: no
 * build step. The script only refreshes the server-rendered main section when the server says
 * something changed (server-sent events) and sends actions to the emulator's own REST API.
 */

/** The stylesheet: system fonts, readable on a narrow window, dark mode from the OS. */
export const STYLES = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --card: #f6f8fa;
  --accent: #0969da; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --fwd: #8250df; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --card: #161b22;
  --accent: #4493f8; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --fwd: #ab7df8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 600; text-decoration: none; color: var(--fg); }
.live { font-size: 12px; color: var(--muted); }
.live.on::before { content: "● "; color: var(--ok); }
main { padding: 0 1rem 2rem; max-width: 80rem; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 1rem 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
.sub { color: var(--muted); font-size: 12px; margin: .1rem 0; overflow-wrap: anywhere; }
.flash:empty { display: none; }
.flash { margin: .5rem 1rem; padding: .5rem .75rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); }
.flash.bad { border-color: var(--bad); color: var(--bad); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
.queues th[scope=row] a { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: 12px; border: 1px solid currentColor; font-weight: 500; }
.state-running, .outcome-succeeded { color: var(--ok); }
.state-paused { color: var(--warn); }
.state-disabled, .outcome-failed { color: var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; margin: .25rem 0; }
button { font: inherit; padding: .25rem .65rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); }
button:focus-visible, a:focus-visible, summary:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button.danger { color: var(--bad); }
button[disabled] { opacity: .6; cursor: progress; }
.chain { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .75rem; }
.hop { position: relative; border: 1px solid var(--line); border-radius: 8px; padding: .6rem .75rem; background: var(--card); }
.hop p { margin: .15rem 0; }
@media (min-width: 50rem) { .hop + .hop::before { content: "→"; position: absolute; left: -.68rem; top: 1.2rem; color: var(--muted); font-weight: 600; } }
.chart { margin: .35rem 0 0; }
.chart svg { width: 100%; height: 56px; display: block; }
.chart figcaption { font-size: 11px; color: var(--muted); }
.axis { stroke: var(--line); }
polyline { stroke-width: 1.6; vector-effect: non-scaling-stroke; }
polyline.delivered { stroke: var(--accent); }
polyline.retried { stroke: var(--warn); stroke-dasharray: 4 2; }
polyline.forwarded { stroke: var(--fwd); stroke-dasharray: 1 2; }
.legend { font-size: 12px; color: var(--muted); margin: 0 0 .5rem; }
.key::before { content: ""; display: inline-block; width: 1.2rem; height: 0; margin-right: .25rem; vertical-align: middle; border-top: 2px solid; }
.key.delivered::before { border-color: var(--accent); }
.key.retried::before { border-color: var(--warn); border-top-style: dashed; }
.key.forwarded::before { border-color: var(--fwd); border-top-style: dotted; }
.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; background: var(--card); min-width: 0; }
.card p { margin: .15rem 0; }
.error { color: var(--bad); overflow-wrap: anywhere; }
.count { font-size: 12px; color: var(--muted); font-weight: 400; }
.code { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; overflow: auto; max-height: 24rem; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
details.body { margin: .5rem 0; }
summary { cursor: pointer; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .75rem 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.kv th { width: 14rem; font-weight: 500; overflow-wrap: anywhere; }
.kv td { overflow-wrap: anywhere; }
.notifications, .tasks { min-width: 36rem; }
.notifications th[scope=row] { white-space: nowrap; }
.notifications details pre { max-width: 40rem; }
.notifications .error { font-size: 12px; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
@media (max-width: 40rem) {
  main { padding: 0 .5rem 2rem; }
  .queues thead { display: none; }
  .queues tr { display: grid; grid-template-columns: 1fr 1fr; border-bottom: 1px solid var(--line); padding: .35rem 0; }
  .queues th, .queues td { border: 0; padding: .1rem .25rem; text-align: left; }
  .queues th[scope=row], .queues td:last-child { grid-column: 1 / -1; }
  .queues td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: 12px; }
  .queues td[data-label="Rate limits"], .queues td[data-label="Retries"] { grid-column: 1 / -1; }
  .kv th { width: auto; }
}
`;

/** The browser script: live refresh over server-sent events, and the buttons' API calls. */
export const SCRIPT = `'use strict';
(() => {
  const live = document.getElementById('live');
  const flash = document.getElementById('flash');
  let busy = false;
  let again = false;

  /** Replaces the main section with the server's fresh rendering, keeping focus and open details. */
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html', 'x-dashboard-fragment': 'main' } });
      if (!res.ok) return;
      const text = await res.text();
      const main = document.getElementById('main');
      const focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : '';
      const open = new Set([...main.querySelectorAll('details[id]')].filter((d) => d.open).map((d) => d.id));
      const closed = new Set([...main.querySelectorAll('details[id]')].filter((d) => !d.open).map((d) => d.id));
      main.innerHTML = text;
      for (const d of main.querySelectorAll('details[id]')) { if (open.has(d.id)) d.open = true; else if (closed.has(d.id)) d.open = false; }
      if (focused) document.getElementById(focused)?.focus();
      document.dispatchEvent(new CustomEvent('dashboard:refreshed'));
    } catch {
      // The emulator stopped; the event stream says so.
    } finally {
      busy = false;
      if (again) { again = false; void refresh(); }
    }
  }

  const events = new EventSource('/ui/events');
  events.onopen = () => { live.textContent = 'live'; live.classList.add('on'); };
  events.onerror = () => { live.textContent = 'disconnected, retrying…'; live.classList.remove('on'); };
  events.onmessage = () => { void refresh(); };

  /** Calls the emulator's REST API (the same methods every client uses). */
  async function api(method, path, body) {
    const res = await fetch('/v2/' + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error((json.error && json.error.message) || 'HTTP ' + res.status);
      err.status = json.error && json.error.status;
      throw err;
    }
    return json;
  }

  const short = (name) => name.slice(name.lastIndexOf('/') + 1);

  /** Dead letter → a new task in tier 1's queue with the same body and credentials, then deleted. */
  async function redrive(task, queue, url) {
    const dead = await api('GET', task + '?responseView=FULL');
    const http = dead.httpRequest || {};
    const headers = {};
    for (const [k, v] of Object.entries(http.headers || {})) if (k.toLowerCase() === 'content-type') headers[k] = v;
    const created = {
      // Named after the dead letter: a second click finds ALREADY_EXISTS instead of a duplicate job.
      name: queue + '/tasks/redrive-' + short(task),
      httpRequest: { url, httpMethod: 'POST', headers },
    };
    if (http.body) created.httpRequest.body = http.body;
    if (http.oidcToken && http.oidcToken.serviceAccountEmail) created.httpRequest.oidcToken = { serviceAccountEmail: http.oidcToken.serviceAccountEmail };
    try {
      await api('POST', queue + '/tasks', { task: created });
    } catch (err) {
      if (err.status !== 'ALREADY_EXISTS') throw err;
    }
    await api('DELETE', task);
    return 'Sent ' + short(task) + ' back to ' + short(queue) + '.';
  }

  const ACTIONS = {
    pause: (d) => api('POST', d.queue + ':pause').then(() => 'Paused ' + short(d.queue) + '.'),
    resume: (d) => api('POST', d.queue + ':resume').then(() => 'Resumed ' + short(d.queue) + '.'),
    purge: (d) => (confirm('Delete every task of ' + short(d.queue) + '?') ? api('POST', d.queue + ':purge').then(() => 'Purged ' + short(d.queue) + '.') : Promise.resolve('')),
    run: (d) => api('POST', d.task + ':run', {}).then(() => 'Dispatched ' + short(d.task) + '.'),
    delete: (d) => api('DELETE', d.task).then(() => 'Deleted ' + short(d.task) + '.'),
    redrive: (d) => redrive(d.task, d.targetQueue, d.targetUrl),
  };

  document.addEventListener('click', async (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button[data-action]') : null;
    if (!button) return;
    const action = ACTIONS[button.dataset.action];
    if (!action) return;
    button.disabled = true;
    try {
      const message = await action(button.dataset);
      flash.className = 'flash';
      flash.textContent = message;
      if (message && button.dataset.after) { location.href = button.dataset.after; return; }
    } catch (err) {
      flash.className = 'flash bad';
      flash.textContent = String(err.message || err);
    } finally {
      button.disabled = false;
    }
    void refresh();
  });
})();
`;
