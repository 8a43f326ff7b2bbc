/** The enforced-rate cell and the Pub/Sub section as pure renderings: what they show, and escaping. */
import { describe, expect, it } from 'vitest';
import { enforcedRate } from '../../../src/emulator/dashboard/render.js';
import { pubsubSection } from '../../../src/emulator/dashboard/pubsub-section.js';
import type { SubscriptionRecord } from '../../../src/emulator/pubsub/model.js';

const EVIL = `"><script>alert('x')</script>`;

function sub(over: Partial<SubscriptionRecord>): SubscriptionRecord {
  return {
    name: 'projects/p/subscriptions/s',
    topic: 'projects/p/topics/t',
    ackDeadlineSeconds: 10,
    retainAckedMessages: false,
    messageRetentionDurationMs: 604_800_000,
    labels: {},
    enableMessageOrdering: false,
    expirationTtlMs: 0,
    filter: '',
    detached: false,
    enableExactlyOnceDelivery: false,
    ...over,
  };
}

describe('the enforced rate cell', () => {
  it('shows the enforced rate, the error share over its samples and a Retry-After hold', () => {
    const out = enforcedRate({ mode: 'model', enforcedRate: 12.345, errorShare: 0.25, samples: 40, heldUntilMs: Date.UTC(2026, 0, 2, 3, 4, 5) }).value;
    expect(out).toContain('<span data-enforced>12.35/s</span>');
    expect(out).toContain('errors 25% of 40');
    expect(out).toContain('held until <time datetime="2026-01-02T03:04:05.000Z">2026-01-02 03:04:05Z</time>');
  });

  it('leaves out the error share before any outcome and the hold when not held', () => {
    const out = enforcedRate({ mode: 'model', enforcedRate: 500, errorShare: 0, samples: 0 }).value;
    expect(out).toBe('<span data-enforced>500/s</span>');
    expect(enforcedRate(undefined).value).toBe('—');
  });
});

describe('the Pub/Sub section', () => {
  it('lists each topic with its pull and push subscriptions, ack deadline, dead-letter policy and counts', () => {
    const out = pubsubSection({
      topics: [
        { name: 'projects/p/topics/t', labels: {} },
        { name: 'projects/p/topics/dead', labels: {} },
      ],
      subscriptions: [
        { record: sub({ name: 'projects/p/subscriptions/pulled', ackDeadlineSeconds: 60 }), counts: { waiting: 3, unacked: 2 } },
        {
          record: sub({
            name: 'projects/p/subscriptions/pushed',
            pushConfig: { pushEndpoint: 'http://127.0.0.1:8080/push', attributes: {} },
            deadLetterPolicy: { deadLetterTopic: 'projects/p/topics/dead', maxDeliveryAttempts: 5 },
          }),
          counts: { waiting: 0, unacked: 1 },
        },
        { record: sub({ name: 'projects/p/subscriptions/orphan', topic: '_deleted-topic_' }), counts: { waiting: 0, unacked: 0 } },
      ],
    }).value;
    expect(out).toContain('Pub/Sub topics <span class="count">2</span>');
    const topic = /<li class="card topic" data-topic="projects\/p\/topics\/t">.*?<\/li>/s.exec(out)?.[0] ?? '';
    expect(topic).toMatch(/data-subscription="projects\/p\/subscriptions\/pulled">.*>pull<.*>60s<.*data-waiting>3<.*data-unacked>2</s);
    expect(topic).toMatch(/data-subscription="projects\/p\/subscriptions\/pushed">.*>push<.*data-endpoint>http:\/\/127\.0\.0\.1:8080\/push<.*to dead after 5 attempts/s);
    expect(/data-topic="projects\/p\/topics\/dead">.*?<\/li>/s.exec(out)?.[0]).toContain('No subscriptions.');
    expect(out).toMatch(/\(deleted topic\)<\/h3>.*data-subscription="projects\/p\/subscriptions\/orphan"/s);
  });

  it('escapes names and push endpoints, so markup in them stays text', () => {
    const out = pubsubSection({
      topics: [{ name: `projects/p/topics/${EVIL}`, labels: {} }],
      subscriptions: [{ record: sub({ topic: `projects/p/topics/${EVIL}`, pushConfig: { pushEndpoint: `http://x/${EVIL}`, attributes: {} } }), counts: { waiting: 0, unacked: 0 } }],
    }).value;
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
  });

  it('says how to create a topic when there is none', () => {
    expect(pubsubSection({ topics: [], subscriptions: [] }).value).toContain('No topics yet.');
  });
});
