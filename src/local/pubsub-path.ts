/**
 * The local stack's Pub/Sub path, set up through the official v1 clients against the emulator (the
 * push endpoints are the tiers' and the webhook's addresses, known only once they listen, so these
 * are created here rather than declared in the queues file): the jobs topic with its push
 * subscription to tier 1, its dead-letter topic and that topic's subscription, and the results
 * topic pushed to the webhook. Also the publishing of the demo batch's Pub/Sub jobs.
 */
import { status } from '@grpc/grpc-js';
import type { v1 } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import { grpcCodeOf } from '../queues/explain.js';
import type { BatchJob } from './batch.js';
import { GOOD_SOURCE_FILE, INVALID_SOURCE_FILE, RESULTS_PATH, STACK_PUBSUB } from './defaults.js';
import { encodeRequest } from './wire.js';

/** Where the Pub/Sub path's resources point. */
export interface PubSubPathTargets {
  project: string;
  /** Tier 1's base URL (the jobs subscription's push endpoint). */
  tier1Url: string;
  /** The webhook's base URL (the results subscription pushes to its /results). */
  webhookUrl: string;
  /** Tier 1's MAX_ATTEMPTS: the dead-letter policy allows more deliveries than that. */
  tier1MaxAttempts: number;
  /** The service account of the push tokens (the tiers allow it). */
  serviceAccount: string;
}

/** Full names of the path's resources. */
export interface PubSubPath {
  jobsTopic: string;
  tier1Subscription: string;
  deadLetterTopic: string;
  deadLetterSubscription: string;
  resultsTopic: string;
  resultsSubscription: string;
}

/** Short backoffs so the demo's retries take fractions of a second (production's default is 10 s). */
const RETRY_POLICY = { minimumBackoff: { nanos: 50_000_000 }, maximumBackoff: { nanos: 500_000_000 } };

/** Names of the path's resources in `project`. */
export function pubSubPathOf(project: string): PubSubPath {
  const t = (id: string) => `projects/${project}/topics/${id}`;
  const s = (id: string) => `projects/${project}/subscriptions/${id}`;
  return {
    jobsTopic: t(STACK_PUBSUB.jobsTopic),
    tier1Subscription: s(STACK_PUBSUB.tier1Subscription),
    deadLetterTopic: t(STACK_PUBSUB.deadLetterTopic),
    deadLetterSubscription: s(STACK_PUBSUB.deadLetterSubscription),
    resultsTopic: t(STACK_PUBSUB.resultsTopic),
    resultsSubscription: s(STACK_PUBSUB.resultsSubscription),
  };
}

/** Creates a resource, leaving one the queues file already declared as it is. */
async function ensure(create: () => Promise<unknown>, name: string, logger: Logger): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (grpcCodeOf(err) !== status.ALREADY_EXISTS) throw err;
    logger.info({ name }, 'Pub/Sub resource already declared (the queues file?): kept as it is');
  }
}

/** Creates the path's topics and subscriptions on the emulator. */
export async function setUpPubSubPath(publisher: v1.PublisherClient, subscriber: v1.SubscriberClient, targets: PubSubPathTargets, logger: Logger): Promise<PubSubPath> {
  const path = pubSubPathOf(targets.project);
  for (const topic of [path.jobsTopic, path.deadLetterTopic, path.resultsTopic]) await ensure(() => publisher.createTopic({ name: topic }), topic, logger);
  await ensure(() => subscriber.createSubscription({ name: path.deadLetterSubscription, topic: path.deadLetterTopic }), path.deadLetterSubscription, logger);
  await ensure(
    () =>
      subscriber.createSubscription({
        name: path.tier1Subscription,
        topic: path.jobsTopic,
        pushConfig: { pushEndpoint: `${targets.tier1Url}/`, oidcToken: { serviceAccountEmail: targets.serviceAccount } },
        ackDeadlineSeconds: 60,
        // No retry policy: a nacked job is redelivered at once, while the batch's other messages
        // still flow. Pub/Sub's push backoff is per subscription — every nack slows all of it, each
        // ack speeds it up again — so retries spread among acks cost little, while retries left
        // for the end, nack after nack, would stall the demo for seconds.
        // More deliveries than the budget: the delivery after a failed last handoff still comes.
        deadLetterPolicy: { deadLetterTopic: path.deadLetterTopic, maxDeliveryAttempts: Math.min(100, Math.max(5, targets.tier1MaxAttempts + 2)) },
      }),
    path.tier1Subscription,
    logger,
  );
  await ensure(
    () =>
      subscriber.createSubscription({
        name: path.resultsSubscription,
        topic: path.resultsTopic,
        pushConfig: { pushEndpoint: `${targets.webhookUrl}${RESULTS_PATH}` },
        retryPolicy: RETRY_POLICY,
      }),
    path.resultsSubscription,
    logger,
  );
  return path;
}

/**
 * Publishes the Pub/Sub jobs of the batch to the jobs topic: the same requests as the Cloud Tasks
 * jobs but naming no webhook (their outcome goes to the results topic only). `onPublished` is
 * called once per job.
 */
export async function publishBatch(publisher: v1.PublisherClient, topic: string, plan: readonly BatchJob[], onPublished: (job: BatchJob) => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const job = plan[next++]!;
      const data = encodeRequest({ sourceFile: job.invalid ? INVALID_SOURCE_FILE : GOOD_SOURCE_FILE, context: { id: job.id } }, job.encoding);
      await publisher.publish({ topic, messages: [{ data, attributes: { jobId: job.id } }] }, { timeout: 15_000 });
      onPublished(job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, plan.length) }, () => worker()));
}
