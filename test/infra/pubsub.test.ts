/**
 * Invariants of infra/'s Pub/Sub path (pubsub.tf, its IAM in iam.tf, its environment in
 * services.tf), evaluated for chains without Pub/Sub, with it feeding the default tier, several
 * tiers, or none (outcomes only): every topic has a subscription (Pub/Sub drops what is published
 * to a topic without one), every fed tier's subscription pushes to the tier with a token it accepts,
 * dead-letters only after more deliveries than the tier's budget, and the Pub/Sub service agent and
 * the executors hold exactly the roles the path needs.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { evaluate } from './expr.js';
import { type Body, type Infra, INFRA, evalValue, exprEnv, loadInfra, loadTfvars, squash } from './hcl.js';
import { type Chain, type Evaluated, PROJECT_NUMBER, allInstances, block, evaluateChain, instances, resourceBody, tierEnv } from './chain.js';

const infra: Infra = await loadInfra();
const example: Record<string, unknown> = await loadTfvars(join(INFRA, 'terraform.tfvars.example'));

const AGENT = `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
const PUBSUB_TYPES = ['google_pubsub_topic', 'google_pubsub_subscription', 'google_pubsub_topic_iam_member', 'google_pubsub_subscription_iam_member'];

function samples(): Array<[string, Record<string, unknown>]> {
  return [
    ['no Pub/Sub (the default)', example],
    ['Pub/Sub feeding tier 1 (its default)', { ...example, pubsub: { enabled: true } }],
    [
      'Pub/Sub feeding tiers 1 and 3, with publishers and outcome subscribers',
      {
        ...example,
        name_prefix: 'jobs',
        pubsub: {
          enabled: true,
          tiers: [1, 3],
          min_backoff: '5s',
          max_backoff: '300s',
          publishers: ['serviceAccount:producer@my-project-id.iam.gserviceaccount.com', 'group:producers@example.com'],
          outcome_subscribers: ['serviceAccount:client@my-project-id.iam.gserviceaccount.com'],
        },
      },
    ],
    ['Pub/Sub for outcomes only', { ...example, pubsub: { enabled: true, tiers: [] } }],
    ['one tier with a budget of 99 fed by Pub/Sub', { ...example, tiers: [{ max_attempts: 99, handoff_retries: 1 }], pubsub: { enabled: true } }],
  ];
}

/** Whole seconds of a "600s" duration. */
function seconds(duration: unknown): number {
  const m = /^(\d+)s$/.exec(String(duration));
  if (!m) throw new Error(`not a whole-seconds duration: ${String(duration)}`);
  return Number(m[1]);
}

/** "target role member" lines of every binding of an IAM resource type. */
function grants(list: Evaluated[], target: string): string[] {
  return list.map((b) => `${String(b.args[target])} ${String(b.args.role)} ${String(b.args.member)}`).sort();
}

describe.each(samples())('Pub/Sub with %s', (_label, tfvars) => {
  let chain: Chain;
  let prefix: string;
  let project: string;
  let enabled: boolean;
  /** Keys of the tiers Pub/Sub feeds, from the model (test/infra/chain.ts), not the HCL. */
  let fed: string[];
  let pubsub: { publishers: string[]; outcome_subscribers: string[] };
  const account = (id: string) => `${prefix}-${id}@${project}.iam.gserviceaccount.com`;
  const topicPath = (name: string) => `projects/${project}/topics/${name}`;

  beforeAll(() => {
    chain = evaluateChain(infra, tfvars);
    prefix = String(chain.vars.name_prefix);
    project = String(chain.vars.project);
    pubsub = chain.vars.pubsub as typeof pubsub;
    enabled = (chain.vars.pubsub as { enabled: boolean }).enabled;
    fed = Object.keys(chain.model).filter((k) => chain.model[k]!.subscription !== null);
  });

  it('creates a jobs topic and a push subscription for exactly the tiers Pub/Sub feeds', () => {
    const topics = instances(infra, chain, 'google_pubsub_topic', 'tier').map((i) => i.key);
    const subscriptions = allInstances(infra, chain, 'google_pubsub_subscription').filter((s) => s.name === 'tier');
    expect(topics.sort()).toEqual([...fed].sort());
    expect(subscriptions.map((s) => s.key).sort()).toEqual([...fed].sort());
    for (const s of subscriptions) {
      expect(s.args.name).toBe(`${prefix}-tier-${s.key}-push`);
      expect(s.args.topic).toBe(topicPath(`${prefix}-tier-${s.key}`));
    }
  });

  it('creates nothing of Pub/Sub when it is off, and the outcomes topic whenever it is on', () => {
    const outcomes = allInstances(infra, chain, 'google_pubsub_topic').filter((t) => t.name === 'outcomes');
    expect(outcomes.map((t) => t.args.name)).toEqual(enabled ? [`${prefix}-outcomes`] : []);
    if (!enabled) {
      for (const type of PUBSUB_TYPES) expect(allInstances(infra, chain, type), type).toEqual([]);
      expect(instances(infra, chain, 'google_service_account', 'pusher')).toEqual([]);
    }
    // The dead-letter topic and the pusher exist only while some tier is fed.
    expect(instances(infra, chain, 'google_pubsub_topic', 'dead_letter')).toHaveLength(fed.length > 0 ? 1 : 0);
    expect(instances(infra, chain, 'google_service_account', 'pusher')).toHaveLength(fed.length > 0 ? 1 : 0);
  });

  it('gives every topic, the dead-letter topic included, a subscription, since Pub/Sub drops what is published to a topic without one', () => {
    const topics = allInstances(infra, chain, 'google_pubsub_topic').map((t) => topicPath(String(t.args.name)));
    const subscribed = new Set(allInstances(infra, chain, 'google_pubsub_subscription').map((s) => s.args.topic));
    for (const topic of topics) expect(subscribed.has(topic), `${topic} has a subscription`).toBe(true);
    // Every dead-letter policy names one of these topics.
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription')) {
      for (const policy of (s.body.dead_letter_policy ?? []) as Body[]) {
        expect(topics, `${String(s.args.name)}'s dead-letter topic`).toContain(evalValue(policy.dead_letter_topic, s.scope));
      }
    }
    // The dead-letter subscription keeps messages as long as Pub/Sub allows, for a human to look at.
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription').filter((x) => x.name === 'dead_letter')) {
      expect(s.args.topic).toBe(topicPath(`${prefix}-dead-letter`));
      expect(s.args.message_retention_duration).toBe('2678400s');
      expect(s.body.push_config).toBeUndefined();
    }
  });

  it('never lets a subscription expire, which by default happens after 31 idle days', () => {
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription')) {
      expect(evalValue(block(s.body, 'expiration_policy').ttl, s.scope), String(s.args.name)).toBe('');
    }
  });

  it('pushes each fed tier the wrapped envelope at its URL, with the pusher token for the audience and account the tier accepts', () => {
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription').filter((x) => x.name === 'tier')) {
      const env = tierEnv(infra, chain, s.key);
      const config = loadConfig(env);
      const push = block(s.body, 'push_config');
      const token = block(push, 'oidc_token');
      expect(evalValue(push.push_endpoint, s.scope)).toBe(env.AUTH_AUDIENCE);
      expect(evalValue(token.audience, s.scope)).toBe(env.AUTH_AUDIENCE);
      expect(config.auth.disabled === false && config.auth.audience).toBe(chain.tiers[s.key]!.url);
      const email = evalValue(token.service_account_email, s.scope);
      expect(email).toBe(account('pusher'));
      expect(config.auth.disabled === false && config.auth.allowedEmails).toContain(email);
      // The executor recognises the envelope (message + subscription) and reads deliveryAttempt from it.
      expect(push.no_wrapper).toBeUndefined();
      expect(env.EXECUTOR_SUBSCRIPTION).toBe(`projects/${project}/subscriptions/${String(s.args.name)}`);
    }
  });

  it('dead-letters a fed tier only after more deliveries than its MAX_ATTEMPTS, within the 5 to 100 Pub/Sub allows', () => {
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription').filter((x) => x.name === 'tier')) {
      const budget = Number(tierEnv(infra, chain, s.key).MAX_ATTEMPTS);
      const policy = block(s.body, 'dead_letter_policy');
      const attempts = evalValue(policy.max_delivery_attempts, s.scope) as number;
      expect(attempts, `tier ${s.key}: ${attempts} deliveries vs MAX_ATTEMPTS ${budget}`).toBeGreaterThan(budget);
      expect(attempts).toBeGreaterThanOrEqual(5);
      expect(attempts).toBeLessThanOrEqual(100);
      // The same margin as the tier's queue: its limit, or Pub/Sub's maximum for an unlimited queue.
      const queue = chain.tiers[s.key]!.queue_max_attempts;
      expect(attempts).toBe(queue === -1 ? 100 : Math.min(100, Math.max(5, queue)));
      expect(evalValue(policy.dead_letter_topic, s.scope)).toBe(topicPath(`${prefix}-dead-letter`));
      // The plan-time guard for a budget Pub/Sub cannot exceed holds here.
      const guard = block(block(s.body, 'lifecycle'), 'precondition');
      expect(evaluate(String(guard.condition).slice(2, -1), exprEnv(s.scope))).toBe(true);
    }
  });

  it("retries a fed tier's pushes with the configured backoff and waits at least the service's request timeout", () => {
    const service = resourceBody(infra, 'google_cloud_run_v2_service', 'tier');
    const vars = chain.vars.pubsub as { min_backoff: string; max_backoff: string };
    for (const s of allInstances(infra, chain, 'google_pubsub_subscription').filter((x) => x.name === 'tier')) {
      const retry = block(s.body, 'retry_policy');
      expect(evalValue(retry.minimum_backoff, s.scope)).toBe(vars.min_backoff);
      expect(evalValue(retry.maximum_backoff, s.scope)).toBe(vars.max_backoff);
      expect(seconds(vars.max_backoff)).toBeLessThanOrEqual(600);
      const timeout = seconds(evalValue(block(service, 'template').timeout, { ...chain.scope, each: { key: s.key, value: chain.tiers[s.key] } }));
      const ack = s.args.ack_deadline_seconds as number;
      expect(ack, `tier ${s.key}: ack deadline vs request timeout`).toBeGreaterThanOrEqual(timeout);
      expect(ack).toBeLessThanOrEqual(600);
    }
  });

  it('sets NOTIFY_TOPIC to the outcomes topic on every tier, and EXECUTOR_SUBSCRIPTION on the fed tiers only', () => {
    for (const k of Object.keys(chain.tiers)) {
      const env = tierEnv(infra, chain, k);
      expect(env.NOTIFY_TOPIC, `tier ${k}`).toBe(enabled ? topicPath(`${prefix}-outcomes`) : undefined);
      expect(env.EXECUTOR_SUBSCRIPTION === undefined, `tier ${k}`).toBe(!fed.includes(k));
      if (!fed.includes(k)) expect(env.AUTH_ALLOWED_EMAILS).toBe(account('invoker'));
    }
  });

  it('grants the Pub/Sub service agent token creation on the pusher, publishing to the dead-letter topic and subscribing on each source subscription', () => {
    const tokenCreators = allInstances(infra, chain, 'google_service_account_iam_member').filter((b) => b.args.role === 'roles/iam.serviceAccountTokenCreator');
    expect(grants(tokenCreators, 'service_account_id')).toEqual(fed.length > 0 ? [`projects/${project}/serviceAccounts/${account('pusher')} roles/iam.serviceAccountTokenCreator ${AGENT}`] : []);
    const agentOnTopics = allInstances(infra, chain, 'google_pubsub_topic_iam_member').filter((b) => b.args.member === AGENT);
    expect(grants(agentOnTopics, 'topic')).toEqual(fed.length > 0 ? [`${prefix}-dead-letter roles/pubsub.publisher ${AGENT}`] : []);
    const agentOnSubscriptions = allInstances(infra, chain, 'google_pubsub_subscription_iam_member').filter((b) => b.args.member === AGENT);
    expect(grants(agentOnSubscriptions, 'subscription')).toEqual(fed.map((k) => `${prefix}-tier-${k}-push roles/pubsub.subscriber ${AGENT}`).sort());
  });

  it('lets the executors publish outcomes and read the subscriptions feeding them, producers publish jobs and clients read outcomes — nothing more on Pub/Sub', () => {
    const runtime = `serviceAccount:${account('runtime')}`;
    const topics = allInstances(infra, chain, 'google_pubsub_topic_iam_member').filter((b) => b.args.member !== AGENT);
    const expectedTopics = enabled
      ? [
          `${prefix}-outcomes roles/pubsub.publisher ${runtime}`,
          ...fed.flatMap((k) => pubsub.publishers.map((m) => `${prefix}-tier-${k} roles/pubsub.publisher ${m}`)),
          ...pubsub.outcome_subscribers.map((m) => `${prefix}-outcomes roles/pubsub.subscriber ${m}`),
        ]
      : [];
    expect(grants(topics, 'topic')).toEqual(expectedTopics.sort());
    const subscriptions = allInstances(infra, chain, 'google_pubsub_subscription_iam_member').filter((b) => b.args.member !== AGENT);
    const expectedSubscriptions = enabled
      ? [
          ...fed.map((k) => `${prefix}-tier-${k}-push roles/pubsub.viewer ${runtime}`),
          ...pubsub.outcome_subscribers.map((m) => `${prefix}-outcomes roles/pubsub.subscriber ${m}`),
        ]
      : [];
    expect(grants(subscriptions, 'subscription')).toEqual(expectedSubscriptions.sort());
    // The pusher holds nothing but run.invoker on the fed services (terraform.test.ts checks those).
    const pusher = `serviceAccount:${account('pusher')}`;
    for (const type of Object.keys(infra.resources).filter((t) => t.endsWith('_iam_member') && t !== 'google_cloud_run_v2_service_iam_member')) {
      for (const b of allInstances(infra, chain, type)) expect(b.args.member, `${type}.${b.name}`).not.toBe(pusher);
    }
  });
});

describe('Pub/Sub variable rules', () => {
  const guard = (body: Body) => String(block(block(body, 'lifecycle'), 'precondition').condition);

  it('is off by default, feeds tier 1 when turned on, and says so in the example tfvars', () => {
    const chain = evaluateChain(infra, example);
    expect(chain.vars.pubsub).toMatchObject({ enabled: false, tiers: [1], min_backoff: '10s', max_backoff: '600s', publishers: [], outcome_subscribers: [] });
    const text = squash(String(infra.variables.pubsub!.type));
    expect(text).toContain('enabled = optional(bool, false)');
    expect(text).toContain('tiers = optional(list(number), [1])');
    expect(example.pubsub).toBeUndefined();
  });

  it('refuses at plan time a fed tier whose budget Pub/Sub cannot exceed (max_attempts of 100 or more)', () => {
    const chain = evaluateChain(infra, { ...example, tiers: [{ max_attempts: 100 }], pubsub: { enabled: true } });
    const subscription = resourceBody(infra, 'google_pubsub_subscription', 'tier');
    const [instance] = instances(infra, chain, 'google_pubsub_subscription', 'tier');
    expect(evaluate(guard(subscription).slice(2, -1), exprEnv(instance!.scope))).toBe(false);
  });

  it('refuses at plan time a fed tier the chain does not have', () => {
    const topic = resourceBody(infra, 'google_pubsub_topic', 'dead_letter');
    const fine = evaluateChain(infra, { ...example, pubsub: { enabled: true, tiers: [1, 3] } });
    const missing = evaluateChain(infra, { ...example, pubsub: { enabled: true, tiers: [1, 4] } });
    expect(evaluate(guard(topic).slice(2, -1), exprEnv(fine.scope))).toBe(true);
    expect(evaluate(guard(topic).slice(2, -1), exprEnv(missing.scope))).toBe(false);
    // The precondition sits on a resource that exists whenever pubsub.tiers is non-empty, even if
    // none of its numbers is a tier (the fed tiers' own resources would then not exist to check).
    expect(instances(infra, evaluateChain(infra, { ...example, pubsub: { enabled: true, tiers: [7] } }), 'google_pubsub_topic', 'dead_letter')).toHaveLength(1);
  });

  it('refuses public members, backoffs Pub/Sub rejects, and repeated tiers', () => {
    const conditions = ((infra.variables.pubsub!.validation ?? []) as Body[]).map((v) => squash(String(v.condition))).join(' ');
    expect(conditions).toContain('allUsers');
    expect(conditions).toContain('allAuthenticatedUsers');
    expect(conditions).toContain('<= 600');
    expect(conditions).toContain('length(distinct(var.pubsub.tiers)) == length(var.pubsub.tiers)');
  });

  it('keeps the pusher account id within the 30 characters Google allows, for the longest prefix', () => {
    const accountId = String(resourceBody(infra, 'google_service_account', 'pusher').account_id);
    expect(accountId).toBe('${var.name_prefix}-pusher');
    expect('x'.repeat(20).length + '-pusher'.length).toBeLessThanOrEqual(30);
  });
});
