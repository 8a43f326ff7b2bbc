/**
 * Invariants of infra/ (no terraform binary here): the files parse, and evaluated for chains of one,
 * two and three tiers they create one queue and one service per tier, wire tier N to tier N+1,
 * give every queue more attempts than its executor's budget, set exactly the environment the
 * executor understands (loadConfig accepts it), and let only the invoker account call the services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { type Body, type Infra, INFRA, ROOT, evalValue, loadInfra, loadTfvars, squash } from './hcl.js';
import { type Chain, allInstances, block, evaluateChain, resourceBody, tierEnv, tierScope } from './chain.js';

// Loaded at import: describe.each below needs the example's tiers while collecting tests.
const infra: Infra = await loadInfra();
const example: Record<string, unknown> = await loadTfvars(join(INFRA, 'terraform.tfvars.example'));

/** Variable sets the chain is evaluated for: the example's first 1, 2 and 3 tiers, and variants. */
function samples(): Array<[string, Record<string, unknown>]> {
  const tiers = example.tiers as Array<Record<string, unknown>>;
  return [
    ['one tier', { ...example, tiers: tiers.slice(0, 1) }],
    ['two tiers', { ...example, tiers: tiers.slice(0, 2) }],
    ['three tiers (the example)', example],
    [
      'three tiers with a per-tier worker, a notify URL and another prefix',
      {
        ...example,
        name_prefix: 'jobs',
        notify_url: 'https://hooks.example.com/executor',
        tiers: [tiers[0], { ...tiers[1], worker: { url: 'https://worker.example.com/run' } }, { max_attempts: 1, handoff_retries: 1 }],
      },
    ],
    ['three tiers with Pub/Sub feeding tiers 1 and 3', { ...example, pubsub: { enabled: true, tiers: [1, 3] } }],
  ];
}

describe('infra/ files', () => {
  it('has one file per concern and every file parses', () => {
    for (const file of ['apis.tf', 'iam.tf', 'queues.tf', 'pubsub.tf', 'services.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'locals.tf', 'registry.tf']) {
      expect(Object.keys(infra.text), file).toContain(file);
    }
    expect(existsSync(join(INFRA, 'terraform.tfvars.example'))).toBe(true);
  });

  it('pins the google provider to the major version whose arguments it uses', () => {
    const versions = squash(infra.text['versions.tf']!);
    expect(versions).toContain('source = "hashicorp/google"');
    expect(versions).toMatch(/version = ">= 7\.0, < 8\.0"/);
  });

  it('example tfvars sets only declared variables, and every variable without a default', () => {
    for (const key of Object.keys(example)) expect(Object.keys(infra.variables), key).toContain(key);
    for (const [name, variable] of Object.entries(infra.variables)) {
      if (!('default' in variable)) expect(Object.keys(example), `required variable ${name}`).toContain(name);
    }
  });

  it("runs the image's default command, which serves a tier", () => {
    const container = block(block(resourceBody(infra, 'google_cloud_run_v2_service', 'tier'), 'template'), 'containers');
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
    expect(cmd && (JSON.parse(cmd) as string[]).at(-1)).toBe('serve');
  });

  it("example tfvars points image at the repository infra/ creates", () => {
    const chain = evaluateChain(infra, example);
    const repo = `${String(chain.vars.region)}-docker.pkg.dev/${String(chain.vars.project)}/${String(chain.vars.repository_id)}/`;
    expect(String(example.image).startsWith(repo), `${String(example.image)} should start with ${repo}`).toBe(true);
  });

  it('enables the APIs the resources need', () => {
    const apis = evaluateChain(infra, example).locals.apis as string[];
    for (const api of ['run.googleapis.com', 'cloudtasks.googleapis.com', 'artifactregistry.googleapis.com', 'iam.googleapis.com', 'cloudbuild.googleapis.com']) {
      expect(apis).toContain(api);
    }
    expect(apis).not.toContain('pubsub.googleapis.com');
    expect(evaluateChain(infra, { ...example, pubsub: { enabled: true } }).locals.apis).toContain('pubsub.googleapis.com');
    expect(resourceBody(infra, 'google_project_service', 'enabled').for_each).toBe('${local.apis}');
  });
});

describe('tier variable rules', () => {
  it('refuses handoff_retries below 1, which would let a queue give up at the executor budget', () => {
    const conditions = ((infra.variables.tiers!.validation ?? []) as Body[]).map((v) => squash(String(v.condition)));
    expect(conditions).toContain('${alltrue([for t in var.tiers : t.handoff_retries == null || try(t.handoff_retries >= 1, false)])}');
  });

  it('defaults every tier to scale to zero', () => {
    expect(squash(String(infra.variables.tiers!.type))).toContain('min_instances = optional(number, 0)');
  });

  it('keeps service names short enough for the deterministic run.app URL the chain relies on', () => {
    // <prefix>-tier-NN-<12-digit project number> must fit one 63-character DNS label.
    const conditions = ((infra.variables.name_prefix!.validation ?? []) as Body[]).map((v) => String(v.condition));
    expect(conditions.join(' ')).toContain('{0,19}');
    expect('x'.repeat(20).length + '-tier-99-'.length + 12).toBeLessThanOrEqual(63);
  });
});

describe.each(samples())('the chain with %s', (_label, tfvars) => {
  let chain: Chain;
  beforeAll(() => {
    chain = evaluateChain(infra, tfvars);
  });
  const keys = () => Object.keys(chain.tiers).sort((a, b) => Number(a) - Number(b));

  it('evaluates local.tiers from locals.tf to exactly the modelled chain', () => {
    // chain.tiers comes from the HCL (test/infra/expr.ts); chain.model states what it must be.
    expect(chain.tiers).toEqual(chain.model);
    const last = String((tfvars.tiers as unknown[]).length);
    expect(chain.tiers[last]!.next_queue).toBeNull();
    expect(chain.tiers[last]!.next_url).toBeNull();
  });

  it('lets the runtime account enqueue into exactly the later tiers, the notifier and the dead-letter queue', () => {
    const prefix = String(chain.vars.name_prefix);
    const expected: Record<string, string> = { notifier: `${prefix}-notifier`, 'dead-letter': `${prefix}-dead-letter` };
    for (const k of keys().slice(1)) expected[`tier-${k}`] = chain.tiers[k]!.name;
    expect(chain.locals.runtime_enqueue_queues).toEqual(expected);
  });

  it('creates one queue and one service per tier', () => {
    const queue = resourceBody(infra, 'google_cloud_tasks_queue', 'tier');
    const service = resourceBody(infra, 'google_cloud_run_v2_service', 'tier');
    expect(queue.for_each).toBe('${local.tiers}');
    expect(service.for_each).toBe('${local.tiers}');
    const count = (tfvars.tiers as unknown[]).length;
    expect(keys()).toEqual(Array.from({ length: count }, (_, i) => String(i + 1)));
    const queueNames = keys().map((k) => evalValue(queue.name, tierScope(chain, k)));
    const serviceNames = keys().map((k) => evalValue(service.name, tierScope(chain, k)));
    expect(new Set(queueNames).size).toBe(count);
    expect(new Set(serviceNames).size).toBe(count);
    // Every tier's service name fits the deterministic URL (one DNS label with the project number).
    for (const name of serviceNames) expect(`${String(name)}-123456789012`.length).toBeLessThanOrEqual(63);
  });

  it('wires tier N to tier N+1 and leaves the last tier without a next', () => {
    const envs = keys().map((k) => tierEnv(infra, chain, k));
    envs.forEach((env, i) => {
      const next = envs[i + 1];
      if (next === undefined) {
        expect(env.PROBLEM_QUEUE).toBeUndefined();
        expect(env.PROBLEM_SERVICE).toBeUndefined();
      } else {
        expect(env.PROBLEM_QUEUE).toBe(next.EXECUTOR_QUEUE);
        // Forwarded tasks target PROBLEM_SERVICE and use it as the OIDC audience (src/executor/apply.ts;
        // Cloud Tasks does the same by default): it must be exactly the next tier's expected audience.
        expect(env.PROBLEM_SERVICE).toBe(next.AUTH_AUDIENCE);
      }
      expect(env.TIER).toBe(String(i + 1));
    });
  });

  it('sets only variables the executor knows, and loadConfig accepts every tier', () => {
    const invoker = `${String(chain.vars.name_prefix)}-invoker@${String(chain.vars.project)}.iam.gserviceaccount.com`;
    const pusher = `${String(chain.vars.name_prefix)}-pusher@${String(chain.vars.project)}.iam.gserviceaccount.com`;
    for (const k of keys()) {
      const env = tierEnv(infra, chain, k);
      const tier = chain.tiers[k]!;
      for (const name of Object.keys(env)) expect(Object.keys(CONFIG_VARIABLES), `${name} on tier ${k}`).toContain(name);
      // Cloud Run sets PORT itself and refuses a revision that sets it.
      expect(env.PORT).toBeUndefined();
      const config = loadConfig(env);
      expect(config.maxAttempts).toBe(tier.max_attempts);
      expect(config.tier).toBe(tier.number);
      expect(config.executorQueue).toBe(tier.queue);
      expect(config.notifierQueue).toBe(chain.locals.notifier_queue);
      expect(config.deadLetterQueue).toBe(chain.locals.dead_letter_queue);
      expect(config.deadLetterUrl).toBe((chain.vars.dead_letter as Record<string, unknown>).target_url);
      expect(config.tasksServiceAccount).toBe(invoker);
      expect(config.auth).toEqual({
        disabled: false,
        // A tier Pub/Sub feeds also accepts the pusher account's tokens.
        allowedEmails: tier.subscription === null ? [invoker] : [invoker, pusher],
        issuers: ['https://accounts.google.com', 'accounts.google.com'],
        audience: tier.url,
      });
      expect(config.next).toEqual(tier.next_queue === null ? undefined : { queue: tier.next_queue, url: tier.next_url });
      expect(config.workerTimeoutMs).toBe(tier.worker_timeout_seconds * 1000);
      expect(config.notifyUrl).toBe(chain.vars.notify_url ?? undefined);
      const worker = (tfvars.tiers as Array<Record<string, unknown>>)[Number(k) - 1]!.worker ?? chain.vars.worker;
      const w = worker as Record<string, string | undefined>;
      expect(config.worker).toEqual(
        w.url ? { kind: 'http', url: w.url } : w.command ? { kind: 'command', argv: expect.any(Array) } : { kind: 'module', module: w.module },
      );
    }
  });

  it("gives every tier's queue more attempts than the executor's budget, or unlimited", () => {
    const queue = resourceBody(infra, 'google_cloud_tasks_queue', 'tier');
    for (const k of keys()) {
      const scope = tierScope(chain, k);
      const attempts = evalValue(block(queue, 'retry_config').max_attempts, scope) as number;
      const budget = Number(tierEnv(infra, chain, k).MAX_ATTEMPTS);
      expect(attempts === -1 || attempts > budget, `queue ${k}: max_attempts ${attempts} vs MAX_ATTEMPTS ${budget}`).toBe(true);
      const retries = (chain.vars.tiers as Array<Record<string, unknown>>)[Number(k) - 1]!.handoff_retries;
      expect(attempts).toBe(retries === null ? -1 : budget + (retries as number));
      // Retry duration 0 = no age limit, so only the attempt count decides when a task is dropped.
      expect(evalValue(block(queue, 'retry_config').max_retry_duration, scope)).toBe('0s');
      expect(evalValue(block(queue, 'rate_limits').max_dispatches_per_second, scope)).toBe(chain.tiers[k]!.max_dispatches_per_second);
    }
  });

  it('probes /health on the container port at startup and for liveness, and scales per tier', () => {
    const service = resourceBody(infra, 'google_cloud_run_v2_service', 'tier');
    const template = block(service, 'template');
    const container = block(template, 'containers');
    const port = block(container, 'ports').container_port;
    for (const probe of ['startup_probe', 'liveness_probe']) {
      const httpGet = block(block(container, probe), 'http_get');
      expect(httpGet.path, probe).toBe('/health');
      expect(httpGet.port, probe).toBe(port);
    }
    for (const k of keys()) {
      const scope = tierScope(chain, k);
      const scaling = block(template, 'scaling');
      expect(evalValue(scaling.min_instance_count, scope)).toBe(chain.tiers[k]!.min_instances);
      expect(evalValue(scaling.max_instance_count, scope)).toBe(chain.tiers[k]!.max_instances);
      expect(evalValue(template.service_account, scope)).toBe(`${String(chain.vars.name_prefix)}-runtime@${String(chain.vars.project)}.iam.gserviceaccount.com`);
      // The request may last the work's time limit plus the handoff.
      expect(evalValue(template.timeout, scope)).toBe(`${chain.tiers[k]!.worker_timeout_seconds + 60}s`);
    }
  });

  it('grants roles/run.invoker on every service to the invoker account, and on the tiers Pub/Sub feeds to the pusher, to no one else', () => {
    const account = (id: string) => `serviceAccount:${String(chain.vars.name_prefix)}-${id}@${String(chain.vars.project)}.iam.gserviceaccount.com`;
    const granted = allInstances(infra, chain, 'google_cloud_run_v2_service_iam_member')
      .filter((b) => b.args.role === 'roles/run.invoker')
      .map((b) => `${String(b.args.name)} ${String(b.args.member)}`)
      .sort();
    const expected = [
      ...keys().map((k) => `${chain.tiers[k]!.name} ${account('invoker')}`),
      ...keys()
        .filter((k) => chain.tiers[k]!.subscription !== null)
        .map((k) => `${chain.tiers[k]!.name} ${account('pusher')}`),
    ].sort();
    expect(granted).toEqual(expected);
  });
});

describe('IAM and exposure', () => {
  const publicMembers = /allUsers|allAuthenticatedUsers/;

  it('grants nothing to allUsers or allAuthenticatedUsers and never disables the invoker check', () => {
    for (const [type, byName] of Object.entries(infra.resources)) {
      for (const [name, body] of Object.entries(byName)) {
        for (const attr of ['member', 'members']) {
          if (attr in body) expect(JSON.stringify(body[attr]), `${type}.${name}.${attr}`).not.toMatch(publicMembers);
        }
      }
    }
    // Whole-policy resources could silently replace the bindings above.
    for (const type of Object.keys(infra.resources)) expect(type).not.toMatch(/_iam_(binding|policy)$/);
    expect(resourceBody(infra, 'google_cloud_run_v2_service', 'tier').invoker_iam_disabled).toBeUndefined();
    // Clients given access by variable cannot be the public either.
    const clientValidation = JSON.stringify(infra.variables.client_members!.validation);
    expect(clientValidation).toContain('allUsers');
    expect(clientValidation).toContain('allAuthenticatedUsers');
  });

  it('lets the runtime account enqueue to later tiers, the notifier and dead letter, read its own queue and act as the invoker', () => {
    const enqueuer = resourceBody(infra, 'google_cloud_tasks_queue_iam_member', 'runtime_enqueuer');
    expect(enqueuer.role).toBe('roles/cloudtasks.enqueuer');
    expect(enqueuer.member).toBe('${google_service_account.runtime.member}');
    expect(enqueuer.for_each).toBe('${local.runtime_enqueue_queues}');
    expect(enqueuer.name).toBe('${each.value}');

    const viewer = resourceBody(infra, 'google_cloud_tasks_queue_iam_member', 'runtime_viewer');
    expect(viewer.role).toBe('roles/cloudtasks.viewer');
    expect(viewer.for_each).toBe('${local.tiers}');
    expect(viewer.name).toBe('${google_cloud_tasks_queue.tier[each.key].name}');

    const actAs = resourceBody(infra, 'google_service_account_iam_member', 'runtime_acts_as_invoker');
    expect(actAs).toMatchObject({
      service_account_id: '${google_service_account.invoker.name}',
      role: 'roles/iam.serviceAccountUser',
      member: '${google_service_account.runtime.member}',
    });
  });

  it('gives the Cloud Build account just enough to push the image and roll out the services', () => {
    expect(resourceBody(infra, 'google_artifact_registry_repository_iam_member', 'deployer_writer').role).toBe('roles/artifactregistry.writer');
    const developer = resourceBody(infra, 'google_cloud_run_v2_service_iam_member', 'deployer_developer');
    expect(developer.role).toBe('roles/run.developer');
    expect(developer.member).toBe('${google_service_account.deployer.member}');
    expect(resourceBody(infra, 'google_service_account_iam_member', 'deployer_acts_as_runtime')).toMatchObject({
      service_account_id: '${google_service_account.runtime.name}',
      role: 'roles/iam.serviceAccountUser',
    });
  });
});

describe('notifier and dead-letter queues', () => {
  it('retries notifications a bounded or unlimited number of times', () => {
    const chain = evaluateChain(infra, example);
    const notifier = resourceBody(infra, 'google_cloud_tasks_queue', 'notifier');
    const attempts = evalValue(block(notifier, 'retry_config').max_attempts, chain.scope) as number;
    expect(attempts === -1 || attempts >= 1).toBe(true);
    expect(`projects/${String(evalValue(notifier.project, chain.scope))}/locations/${String(evalValue(notifier.location, chain.scope))}/queues/${String(evalValue(notifier.name, chain.scope))}`).toBe(
      chain.locals.notifier_queue,
    );
  });

  it('keeps the dead-letter queue paused with unlimited attempts, so nothing in it is dispatched or dropped', () => {
    const dead = resourceBody(infra, 'google_cloud_tasks_queue', 'dead_letter');
    expect(dead.desired_state).toBe('PAUSED');
    expect(block(dead, 'retry_config').max_attempts).toBe(-1);
  });
});

describe('outputs and rollouts', () => {
  it('outputs queue paths, service URLs and the accounts clients need', () => {
    for (const name of [
      'tier_queues',
      'tier_urls',
      'tier_services',
      'notifier_queue',
      'dead_letter_queue',
      'invoker_service_account',
      'image_repository',
      'cloudbuild_substitutions',
      'pubsub_tier_topics',
      'pubsub_tier_subscriptions',
      'outcomes_topic',
      'outcomes_subscription',
      'pubsub_dead_letter_subscription',
      'pusher_service_account',
    ]) {
      expect(Object.keys(infra.outputs), name).toContain(name);
    }
    expect(squash(String(infra.outputs.tier_queues!.value))).toBe('${{ for k, q in google_cloud_tasks_queue.tier : k => q.id }}');
  });

  it('does not roll back images that Cloud Build deployed when Terraform is applied again', () => {
    const lifecycle = block(resourceBody(infra, 'google_cloud_run_v2_service', 'tier'), 'lifecycle');
    expect(lifecycle.ignore_changes).toContain('${template[0].containers[0].image}');
  });

  it('stores the image in an Artifact Registry Docker repository in the same region', () => {
    const repo = resourceBody(infra, 'google_artifact_registry_repository', 'images');
    expect(repo.format).toBe('DOCKER');
    expect(repo.location).toBe('${var.region}');
    expect(repo.repository_id).toBe('${var.repository_id}');
  });
});
