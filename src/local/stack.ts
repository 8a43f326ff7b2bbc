/**
 * Starts the local topology in one process: the emulator with the queues file, executor tier 2 and
 * tier 1 (tier 1 forwards to tier 2), the webhook, and the Pub/Sub path (a jobs topic pushed to
 * tier 1, every outcome published to a results topic pushed to the webhook; see pubsub-path.ts). Each tier is configured by calling
 * `loadConfig` with an environment object — exactly the production configuration path — with
 * inbound OIDC on: the emulator signs every push and the tiers verify it against its JWKS.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import type { v1 } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import { loadConfig } from '../config.js';
import { CodedError, messageOf } from '../errors.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startExecutor } from '../executor/index.js';
import { closePubSubClients, makePublisherClient, makeSubscriberClient, newEmulatorClient } from '../queues/index.js';
import { queuePath } from '../queues/paths.js';
import { FIREBASE_EMULATED_SERVICE_ACCOUNT, LOCAL_SERVICE_ACCOUNT, STACK_PUBSUB, WEBHOOK_PATH } from './defaults.js';
import type { DevOptions, DevWork } from './dev-args.js';
import { readTierCounters, type TierCounters } from './progress.js';
import { setUpPubSubPath, type PubSubPath } from './pubsub-path.js';
import { STACK_QUEUES, checkQueuesFile } from './queues-check.js';
import { startWebhook, type Webhook } from './webhook.js';

/** One running executor tier. */
export interface TierHandle {
  /** 1 or 2. */
  readonly tier: number;
  /** Its base URL (the target of its queue's tasks). */
  readonly url: string;
  /** Its MAX_ATTEMPTS. */
  readonly maxAttempts: number;
  /** Its counters, read from its own /metrics. */
  counters(): Promise<TierCounters>;
  /** Stops it. */
  close(): Promise<void>;
}

/** The running local stack. */
export interface Stack {
  /** The emulator. */
  readonly emulator: Emulator;
  /** Tier 1 then tier 2. */
  readonly tiers: readonly TierHandle[];
  /** The webhook receiver. */
  readonly webhook: Webhook;
  /** Where jobs' notifications go. */
  readonly webhookUrl: string;
  /** Full path of tier 1's queue (where jobs are submitted). */
  readonly incomingQueue: string;
  /** An official client connected to the emulator (closed by `close`). */
  readonly client: CloudTasksClient;
  /** The Pub/Sub path's resources, and the Publisher client jobs are published with. */
  readonly pubsub: PubSubPath & { publisher: v1.PublisherClient };
  /** Stops every component, in reverse order of start. */
  close(): Promise<void>;
}

/** What the tiers of the local stack are configured from. */
export interface StackEnv {
  /** Interface the tiers listen on. */
  host: string;
  /** Project and location of the queues. */
  project: string;
  location: string;
  /** Base URL of the webhook receiver (its /dead-letter path takes dead letters). */
  webhookUrl: string;
  /** Where the tiers reach Cloud Tasks and the OIDC keys. */
  emulator: { address: string; issuer: string; jwksUrl: string };
  logLevel: string;
  /** What the tiers run (default the demo handler). */
  work?: DevWork;
  /** Publish every outcome to the stack's results topic (NOTIFY_TOPIC) and check tier 1's subscription. */
  pubsub?: boolean;
}

/**
 * The environment of one tier of the local stack — the same variables a Cloud Run deployment of
 * each tier sets (see docker-compose.yml) — for `loadConfig` in-process or for an `executor serve`
 * process. Tier 1 gets `next` (tier 2's URL) and forwards to tier 2's queue; the others are last.
 */
export function tierEnv(env: StackEnv, tier: { tier: number; port: number; maxAttempts: number; next?: string }): Record<string, string> {
  const queue = tier.tier === 1 ? STACK_QUEUES.tier1 : STACK_QUEUES.tier2;
  return {
    HOST: env.host,
    GOOGLE_CLOUD_PROJECT: env.project,
    TASKS_LOCATION: env.location,
    NOTIFIER_QUEUE: STACK_QUEUES.notifier,
    DEAD_LETTER_QUEUE: STACK_QUEUES.deadLetter,
    DEAD_LETTER_URL: `${env.webhookUrl}/dead-letter`,
    TASKS_SERVICE_ACCOUNT: LOCAL_SERVICE_ACCOUNT,
    CLOUD_TASKS_EMULATOR_HOST: env.emulator.address,
    AUTH_ISSUER: env.emulator.issuer,
    AUTH_JWKS_URL: env.emulator.jwksUrl,
    // firebase-admin's emulated identity too, so its enqueue() reaches a tier unchanged.
    AUTH_ALLOWED_EMAILS: `${LOCAL_SERVICE_ACCOUNT},${FIREBASE_EMULATED_SERVICE_ACCOUNT}`,
    ...(env.work ?? { WORKER_MODULE: 'demo' }),
    // The emulator stops first on Ctrl-C, so little is in flight; don't make the user wait 8 s.
    SHUTDOWN_GRACE_SECONDS: '2',
    LOG_LEVEL: env.logLevel,
    PORT: String(tier.port),
    MAX_ATTEMPTS: String(tier.maxAttempts),
    TIER: String(tier.tier),
    EXECUTOR_QUEUE: queue,
    ...(tier.next !== undefined ? { PROBLEM_QUEUE: STACK_QUEUES.tier2, PROBLEM_SERVICE: tier.next } : {}),
    ...(env.pubsub === true ? { NOTIFY_TOPIC: STACK_PUBSUB.resultsTopic, ...(tier.tier === 1 ? { EXECUTOR_SUBSCRIPTION: STACK_PUBSUB.tier1Subscription } : {}) } : {}),
  };
}

/** The Node error code of a port already taken. */
function isAddrInUse(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'EADDRINUSE' || code === 'EMULATOR_PORT_IN_USE' || /EADDRINUSE/.test(String((err as Error)?.message));
}

async function listening<T>(what: string, flag: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (isAddrInUse(err)) {
      throw new CodedError(
        'PORT_IN_USE',
        `${what} cannot listen on ${host}:${port}: the port is in use (another 'executor dev' or emulator still running?). Stop it, or pass ${flag} 0 to take any free port`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Starts the stack; on failure, stops whatever had started and rethrows. (One sequence on purpose:
 * each component needs the addresses of the ones started before it, and `stops` must see them all.)
 */
export async function startStack(options: DevOptions, logger: Logger): Promise<Stack> {
  const { project, location, withDefaultTarget } = await checkQueuesFile(options.queuesFile, { tier1: options.tier1MaxAttempts, tier2: options.tier2MaxAttempts });
  // Stop order: the client, then the emulator (no more pushes), then the tiers (nothing left in
  // flight to drain), then the webhook. A partial start stops what it started, in the same order.
  const stops: Partial<Record<'client' | 'emulator' | 'tier1' | 'tier2' | 'pubsub' | 'webhook', () => Promise<void>>> = {};
  const closeAll = async (): Promise<void> => {
    // The Pub/Sub clients are shared with the tiers: closed once the tiers are.
    for (const key of ['client', 'emulator', 'tier1', 'tier2', 'pubsub', 'webhook'] as const) {
      const stop = stops[key];
      delete stops[key];
      if (stop === undefined) continue;
      try {
        await stop();
      } catch (err) {
        logger.warn({ component: key, err: messageOf(err) }, 'error while stopping a component');
      }
    }
  };

  try {
    const emulator = await listening('The emulator', '--port', options.host, options.emulatorPort, () =>
      startEmulator({
        host: options.host,
        port: options.emulatorPort,
        queues: options.queuesFile,
        // Local development deletes and re-creates queues freely; production would refuse for 7 days.
        allowQueueNameReuse: true,
        logger: logger.child({ component: 'emulator' }),
      }),
    );
    stops.emulator = () => emulator.close();

    const webhook = await listening('The webhook', '--webhook-port', options.host, options.webhookPort, () =>
      startWebhook({ host: options.host, port: options.webhookPort, logger: logger.child({ component: 'webhook' }) }),
    );
    stops.webhook = () => webhook.close();
    const webhookUrl = `${webhook.url}${WEBHOOK_PATH}`;

    const env: StackEnv = { host: options.host, project, location, webhookUrl: webhook.url, emulator, logLevel: options.logLevel, work: options.work, pubsub: true };
    stops.pubsub = () => closePubSubClients();

    const startTier = async (tier: number, port: number, maxAttempts: number, next?: string): Promise<TierHandle> => {
      const config = loadConfig(tierEnv(env, { tier, port, maxAttempts, ...(next !== undefined ? { next } : {}) }));
      const executor = await listening(`Executor tier ${tier}`, `--tier${tier}-port`, options.host, port, () =>
        startExecutor(config, { logger: logger.child({ component: `tier-${tier}` }) }),
      );
      stops[tier === 1 ? 'tier1' : 'tier2'] = () => executor.close();
      return {
        tier,
        url: executor.url,
        maxAttempts,
        counters: () => readTierCounters(executor.metrics),
        close: () => executor.close(),
      };
    };

    // Tier 2 first: tier 1's PROBLEM_SERVICE is tier 2's URL, known once it listens.
    const tier2 = await startTier(2, options.tier2Port, options.tier2MaxAttempts);
    const tier1 = await startTier(1, options.tier1Port, options.tier1MaxAttempts, tier2.url);

    const client = newEmulatorClient(emulator.address);
    stops.client = () => client.close();

    const publisher = makePublisherClient(emulator.address);
    const pubsubPath = await setUpPubSubPath(
      publisher,
      makeSubscriberClient(emulator.address),
      { project, tier1Url: tier1.url, webhookUrl: webhook.url, tier1MaxAttempts: tier1.maxAttempts, serviceAccount: LOCAL_SERVICE_ACCOUNT },
      logger.child({ component: 'pubsub' }),
    );

    const stackQueue = (id: string): string => queuePath(project, location, id);
    // Tasks that name no URL (firebase-admin's) go to the tier the queue feeds, unless the queues
    // file gave the queue a defaultTarget of its own.
    for (const [id, tier] of [[STACK_QUEUES.tier1, tier1], [STACK_QUEUES.tier2, tier2]] as const) {
      if (!withDefaultTarget.has(id)) emulator.setDefaultTarget(stackQueue(id), `${tier.url}/`);
    }
    emulator.showChain({
      tiers: [tier1, tier2].map((t) => ({ tier: t.tier, queue: stackQueue(t.tier === 1 ? STACK_QUEUES.tier1 : STACK_QUEUES.tier2), url: t.url, maxAttempts: t.maxAttempts })),
      notifierQueue: stackQueue(STACK_QUEUES.notifier),
      deadLetterQueue: stackQueue(STACK_QUEUES.deadLetter),
      webhook: {
        notificationsUrl: `${webhook.url}/notifications`,
        notifications: () => webhook.recent.list(),
        totals: () => webhook.tally.snapshot(),
      },
    });

    return {
      emulator,
      tiers: [tier1, tier2],
      webhook,
      webhookUrl,
      incomingQueue: queuePath(project, location, STACK_QUEUES.tier1),
      client,
      pubsub: { ...pubsubPath, publisher },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
