/**
 * The local stack's fixed points: where `executor dev` listens by default and the names it uses, so
 * `executor submit` run in another terminal reaches it with no flags.
 */

/** Project of the local queues (the queues file's default). */
export const LOCAL_PROJECT = 'local-project';
/** Location of the local queues (the queues file's default). */
export const LOCAL_LOCATION = 'us-central1';
/** Emulator port (`executor emulator`'s default too). */
export const EMULATOR_PORT = 8123;
/** Executor tier 1 port. */
export const TIER1_PORT = 8081;
/** Executor tier 2 port. */
export const TIER2_PORT = 8082;
/** Webhook receiver port. */
export const WEBHOOK_PORT = 8090;
/** Path notifications are posted to on the webhook. */
export const WEBHOOK_PATH = '/notify';
/**
 * The service account the local tasks' OIDC tokens name (the emulator signs them; the executors
 * allow only this email).
 */
export const LOCAL_SERVICE_ACCOUNT = 'executor-local@local-project.iam.gserviceaccount.com';
/**
 * The identity firebase-admin's tasks carry against an emulator when the app has no service
 * account (`EMULATED_SERVICE_ACCOUNT_DEFAULT` in its functions client); the local tiers allow it too.
 */
export const FIREBASE_EMULATED_SERVICE_ACCOUNT = 'emulated-service-acct@email.com';
/** The source file the demo worker succeeds on. */
export const GOOD_SOURCE_FILE = 'gs://demo-bucket/report.pdf';
/** The source file the demo worker fails on (retryably). */
export const INVALID_SOURCE_FILE = 'invalid';
/**
 * Deadline of one CreateTask from `executor submit` and the demo batch: a missing emulator is
 * reported in seconds rather than after the client's long default.
 */
export const SUBMIT_TIMEOUT_MS = 15_000;
/**
 * The Pub/Sub path of the local stack: jobs published to `jobs` are pushed to tier 1 by
 * `jobs-tier1` (OIDC, a dead-letter policy into `jobs-dead-letter`, kept by a pull subscription so
 * nothing published there is lost); every outcome of both paths is published to `job-results`,
 * which `job-results-webhook` pushes to the webhook's /results.
 */
export const STACK_PUBSUB = {
  jobsTopic: 'jobs',
  tier1Subscription: 'jobs-tier1',
  deadLetterTopic: 'jobs-dead-letter',
  deadLetterSubscription: 'jobs-dead-letter-hold',
  resultsTopic: 'job-results',
  resultsSubscription: 'job-results-webhook',
} as const;
/** Path Pub/Sub pushes outcome messages to on the webhook. */
export const RESULTS_PATH = '/results';
