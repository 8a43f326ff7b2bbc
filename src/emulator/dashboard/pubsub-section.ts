/**
 * The overview's Pub/Sub section: each topic with its subscriptions (pull or push, ack deadline,
 * dead-letter policy, messages waiting and unacked). Pure, like render.ts: data in, markup out.
 */
import type { SubscriptionCounts } from '../pubsub/engine.js';
import type { SubscriptionRecord, TopicRecord } from '../pubsub/model.js';
import { DELETED_TOPIC } from '../pubsub/names.js';
import { html, type Html } from './html.js';

/** What the Pub/Sub section shows. */
export interface PubSubView {
  topics: TopicRecord[];
  /** Every subscription with its message counts; grouped under its topic when rendered. */
  subscriptions: Array<{ record: SubscriptionRecord; counts: SubscriptionCounts }>;
}

/** `projects/p/topics/t` → `t` (the section names its project once per row's title). */
const tail = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

function delivery(s: SubscriptionRecord): Html {
  const push = s.pushConfig;
  return push === undefined || push.pushEndpoint === ''
    ? html`<span class="badge">pull</span>`
    : html`<span class="badge">push</span> <span class="sub" data-endpoint>${push.pushEndpoint}</span>`;
}

function deadLetter(s: SubscriptionRecord): Html {
  const d = s.deadLetterPolicy;
  return d === undefined ? html`—` : html`to ${tail(d.deadLetterTopic)} after ${d.maxDeliveryAttempts} attempts`;
}

function subscriptionRow(s: PubSubView['subscriptions'][number]): Html {
  const r = s.record;
  return html`<tr data-subscription="${r.name}"><th scope="row">${tail(r.name)}</th><td data-label="Delivery">${delivery(r)}</td><td class="num" data-label="Ack deadline">${r.ackDeadlineSeconds}s</td><td data-label="Dead letters">${deadLetter(r)}</td><td class="num" data-label="Waiting" data-waiting>${s.counts.waiting}</td><td class="num" data-label="Unacked" data-unacked>${s.counts.unacked}</td></tr>\n`;
}

function table(subs: PubSubView['subscriptions']): Html {
  if (subs.length === 0) return html`<p class="sub">No subscriptions.</p>`;
  return html`<div class="scroll"><table class="subscriptions"><thead><tr><th scope="col">Subscription</th><th scope="col">Delivery</th><th scope="col">Ack deadline</th><th scope="col">Dead letters</th><th scope="col">Waiting</th><th scope="col">Unacked</th></tr></thead><tbody>
${subs.map(subscriptionRow)}</tbody></table></div>`;
}

/** Topics, each with its subscriptions; subscriptions whose topic was deleted come last. */
export function pubsubSection(view: PubSubView): Html {
  const orphans = view.subscriptions.filter((s) => s.record.topic === DELETED_TOPIC);
  return html`<section aria-labelledby="pubsub-h"><h2 id="pubsub-h">Pub/Sub topics <span class="count">${view.topics.length}</span></h2>
${
  view.topics.length === 0 && orphans.length === 0
    ? html`<p>No topics yet. Create one with a Pub/Sub client or under <code>topics:</code> in the queues file.</p>`
    : html`<ul class="cards">${view.topics.map(
        (t) => html`<li class="card topic" data-topic="${t.name}"><h3>${tail(t.name)}</h3><p class="sub">${t.name}</p>
${table(view.subscriptions.filter((s) => s.record.topic === t.name))}</li>`,
      )}${orphans.length > 0 ? html`<li class="card topic"><h3>(deleted topic)</h3>${table(orphans)}</li>` : ''}</ul>`
}</section>`;
}
