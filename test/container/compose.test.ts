/** docker-compose.yml, read without Docker: every name, port, file and variable it uses exists. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { parseEmulatorArgs } from '../../src/emulator/cli.js';
import { loadPubSubDeclarations } from '../../src/emulator/pubsub/topics-file.js';
import { parseDevArgs } from '../../src/local/dev-args.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const queuesFile = parse(readFileSync(join(ROOT, 'local/queues.yaml'), 'utf8')) as {
  project: string;
  location: string;
  queues: { name: string; retryConfig?: { maxAttempts?: number } }[];
};
const EXECUTORS = ['executor-1', 'executor-2'];

/** The subcommands src/cli.ts knows, with the module each one loads. */
const CLI_COMMANDS = new Map(
  [...readFileSync(join(ROOT, 'src/cli.ts'), 'utf8').matchAll(/^\s+(\w+): \{\s*summary:[^]*?import\('\.\/(.+?)\.js'\)/gm)].map((m) => [m[1]!, `src/${m[2]!}.ts`]),
);

/** argv a service runs (entrypoint after tini + command), with `node dist/cli.js` checked and dropped. */
function cliArgs(name: string): string[] {
  const s = services[name]!;
  const argv = [...(s.entrypoint ?? ['/usr/bin/tini', '--']), ...(s.command ?? ['node', 'dist/cli.js', 'serve'])];
  expect(argv.slice(0, 4), `${name} runs the CLI with node`).toEqual(['/usr/bin/tini', '--', 'node', 'dist/cli.js']);
  return argv.slice(4);
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Port a service listens on inside its container. */
function containerPort(name: string): number {
  const s = services[name]!;
  const args = cliArgs(name);
  return Number(flag(args, '--port') ?? s.environment?.PORT ?? 8080);
}

function hostAndPort(url: string): [string, number] {
  const u = new URL(url.includes('://') ? url : `http://${url}`);
  return [u.hostname, Number(u.port || 80)];
}

describe('docker-compose.yml', () => {
  it('has the emulator, both tiers and the webhook, all from the project image built here', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['emulator', 'executor-1', 'executor-2', 'webhook']));
    const images = new Set(Object.values(services).map((s) => s.image));
    expect(images.size).toBe(1);
    for (const s of Object.values(services)) expect(s.build).toBe('.');
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
  });

  it('runs only subcommands the CLI has, whose modules exist', () => {
    expect([...CLI_COMMANDS.keys()]).toEqual(expect.arrayContaining(['serve', 'emulator', 'dev', 'submit']));
    for (const name of Object.keys(services)) {
      const sub = cliArgs(name)[0]!;
      expect(CLI_COMMANDS.has(sub), `${name}: '${sub}' is an executor subcommand`).toBe(true);
      expect(existsSync(join(ROOT, CLI_COMMANDS.get(sub)!)), `${name}: ${CLI_COMMANDS.get(sub)} exists`).toBe(true);
    }
    for (const name of EXECUTORS) expect(cliArgs(name)).toEqual(['serve']);
  });

  it('mounts the checked-in queues file where the emulator reads it', () => {
    const args = cliArgs('emulator');
    expect(args[0]).toBe('emulator');
    const queuesPath = flag(args, '--queues')!;
    const mount = services.emulator!.volumes!.map((v) => v.split(':')).find(([, target]) => target === queuesPath);
    expect(mount, `a volume is mounted at ${queuesPath}`).toBeDefined();
    expect(resolve(ROOT, mount![0]!)).toBe(join(ROOT, 'local/queues.yaml'));
    expect(flag(args, '--host')).toBe('0.0.0.0');
    // Flags the emulator's CLI accepts.
    expect(parseEmulatorArgs(args.slice(1))).toMatchObject({ host: '0.0.0.0', queues: queuesPath, port: containerPort('emulator') });
  });

  it('gives each tier only variables the executor knows, and a configuration it accepts', () => {
    for (const name of EXECUTORS) {
      const env = services[name]!.environment!;
      const unknown = Object.keys(env).filter((k) => !(k in CONFIG_VARIABLES));
      expect(unknown, `${name}: variables not in CONFIG_VARIABLES`).toEqual([]);
      const config = loadConfig(env);
      expect(config.auth.disabled, `${name}: inbound auth is on, as in production`).toBe(false);
      expect(config.emulatorHost).toBeDefined();
    }
  });

  it('chains tier 1 to tier 2, tier 2 being the last', () => {
    const one = loadConfig(services['executor-1']!.environment);
    const two = loadConfig(services['executor-2']!.environment);
    expect(one.tier).toBe(1);
    expect(two.tier).toBe(2);
    expect(two.next).toBeUndefined();
    const [host, port] = hostAndPort(one.next!.url);
    expect(host).toBe('executor-2');
    expect(port).toBe(containerPort('executor-2'));
    expect(one.next!.queue).toBe(two.executorQueue);
  });

  it('names only queues of the queues file, each allowing more attempts than its tier spends', () => {
    const byName = new Map(queuesFile.queues.map((q) => [q.name, q]));
    const prefix = `projects/${queuesFile.project}/locations/${queuesFile.location}/queues/`;
    for (const name of EXECUTORS) {
      const config = loadConfig(services[name]!.environment);
      for (const path of [config.notifierQueue, config.deadLetterQueue, config.executorQueue, config.next?.queue].filter((p) => p !== undefined)) {
        expect(path.startsWith(prefix), `${name}: ${path} is in the queues file's project and location`).toBe(true);
        expect(byName.has(path.slice(prefix.length)), `${name}: ${path} is in local/queues.yaml`).toBe(true);
      }
      const own = byName.get(config.executorQueue!.slice(prefix.length))!;
      const max = own.retryConfig?.maxAttempts ?? 100;
      expect(max === -1 || max > config.maxAttempts, `${name}: queue allows more than MAX_ATTEMPTS`).toBe(true);
    }
  });

  it('points every URL and address at a service and the port it listens on', () => {
    const emulatorPort = containerPort('emulator');
    for (const name of EXECUTORS) {
      const env = services[name]!.environment!;
      expect(hostAndPort(env.CLOUD_TASKS_EMULATOR_HOST!)).toEqual(['emulator', emulatorPort]);
      expect(hostAndPort(env.AUTH_JWKS_URL!)).toEqual(['emulator', emulatorPort]);
      expect(new URL(env.AUTH_JWKS_URL!).pathname).toBe('/.well-known/jwks.json');
      // The emulator's issuer is its own URL as it binds (no --issuer given): http://HOST:PORT.
      const emu = cliArgs('emulator');
      expect(env.AUTH_ISSUER).toBe(flag(emu, '--issuer') ?? `http://${flag(emu, '--host')}:${emulatorPort}`);
      expect(hostAndPort(env.DEAD_LETTER_URL!)).toEqual(['webhook', containerPort('webhook')]);
      expect(services[name]!.depends_on?.emulator?.condition).toBe('service_healthy');
    }
  });

  it('runs the webhook with flags `executor dev --webhook-only` accepts, on its PORT', () => {
    const args = cliArgs('webhook');
    expect(args[0]).toBe('dev');
    const parsed = parseDevArgs(args.slice(1), services.webhook!.environment ?? {});
    expect(parsed).toMatchObject({ mode: 'webhook-only', host: '0.0.0.0', port: containerPort('webhook') });
  });

  it('publishes each service on the host port `npm start` uses, mapped to the port it listens on', () => {
    const expected: Record<string, number> = { emulator: 8123, 'executor-1': 8081, 'executor-2': 8082, webhook: 8090 };
    for (const [name, hostPort] of Object.entries(expected)) {
      expect(services[name]!.ports).toEqual([`${hostPort}:${containerPort(name)}`]);
    }
  });

  it('checks each long-running service\'s health on the port it listens on', () => {
    for (const name of ['emulator', ...EXECUTORS, 'webhook']) {
      const test = services[name]!.healthcheck!.test.join(' ');
      expect(test).toContain(`http://127.0.0.1:${containerPort(name)}/`);
    }
  });

  it('gives every topic of the mounted queues file a subscription, and a tier Pub/Sub settings only the emulator declares', () => {
    // Pub/Sub keeps a message only for subscriptions that exist when it is published: a topic without
    // one (an outcomes topic, a dead-letter topic) loses everything sent to it.
    const { topics, subscriptions } = loadPubSubDeclarations(join(ROOT, 'local/queues.yaml'));
    const subscribed = new Set(subscriptions.map((s) => s.topic));
    for (const topic of topics) expect(subscribed.has(topic.name), `${topic.name} has a subscription`).toBe(true);
    const topicPath = (id: string) => (id.includes('/') ? id : `projects/${queuesFile.project}/topics/${id}`);
    const subscriptionPath = (id: string) => (id.includes('/') ? id : `projects/${queuesFile.project}/subscriptions/${id}`);
    for (const name of EXECUTORS) {
      const env = services[name]!.environment!;
      // An outcomes topic the emulator does not have would fail every handoff (503 until it exists).
      if (env.NOTIFY_TOPIC !== undefined) expect(topics.map((t) => t.name), `${name}: NOTIFY_TOPIC`).toContain(topicPath(env.NOTIFY_TOPIC));
      if (env.EXECUTOR_SUBSCRIPTION === undefined) continue;
      const sub = subscriptions.find((s) => s.name === subscriptionPath(env.EXECUTOR_SUBSCRIPTION!));
      expect(sub, `${name}: EXECUTOR_SUBSCRIPTION is declared`).toBeDefined();
      const push = sub!.pushConfig!;
      expect(hostAndPort(push.pushEndpoint), `${name}: the subscription pushes to it`).toEqual([name, containerPort(name)]);
      const auth = loadConfig(env).auth;
      expect(auth.disabled === false && auth.allowedEmails, `${name}: accepts the push identity`).toContain(push.oidcToken?.serviceAccountEmail);
      expect(push.oidcToken?.audience || push.pushEndpoint).toBe(env.AUTH_AUDIENCE);
      // deliveryAttempt exists only with a dead-letter policy; it must allow more than the budget.
      expect(sub!.deadLetterPolicy!.maxDeliveryAttempts, `${name}: deliveries vs MAX_ATTEMPTS`).toBeGreaterThan(Number(env.MAX_ATTEMPTS));
      expect(subscribed.has(sub!.deadLetterPolicy!.deadLetterTopic), `${name}: the dead-letter topic has a subscription`).toBe(true);
    }
  });

  it('submits demo jobs to tier 1 with an identity tier 1 accepts and notifications to the webhook', () => {
    const args = cliArgs('submit');
    expect(args[0]).toBe('submit');
    expect(services.submit!.profiles).toEqual(['tools']);
    expect(hostAndPort(flag(args, '--emulator')!)).toEqual(['emulator', containerPort('emulator')]);
    expect(hostAndPort(flag(args, '--url')!)).toEqual(['executor-1', containerPort('executor-1')]);
    expect(hostAndPort(flag(args, '--webhook')!)).toEqual(['webhook', containerPort('webhook')]);
    const allowed = loadConfig(services['executor-1']!.environment).auth;
    expect(allowed.disabled === false && allowed.allowedEmails).toContain(flag(args, '--service-account'));
  });
});
