/**
 * `executor serve`: one executor tier, configured by environment variables (see docs/executor.md).
 * Runs until SIGTERM or SIGINT, then stops taking pushes, lets in-flight work finish within
 * SHUTDOWN_GRACE_SECONDS and exits 0 (Cloud Run's contract); a second signal exits at once.
 */
import { CONFIG_VARIABLES, loadConfig, type ExecutorConfig } from '../config.js';
import { CodedError } from '../errors.js';
import { chooseLogFormat, makeLogger, type Logger } from '../log.js';
import { nearMissVariables } from '../suggest.js';
import { queuePath } from '../queues/paths.js';
import { untilStopSignal } from '../signals.js';
import { closeTasksClients, makeTasksClient } from '../queues/tasks-client.js';
import { closePubSubClients, makeSubscriberClient } from '../queues/pubsub-client.js';
import { checkQueueDrift, checkSubscriptionDrift } from './drift.js';
import { startExecutor } from './index.js';

function help(): string {
  const width = Math.max(...Object.keys(CONFIG_VARIABLES).map((k) => k.length));
  const rows = Object.entries(CONFIG_VARIABLES).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  return `Usage: executor serve\n\nRuns one executor tier. Configuration comes from the environment:\n\n${rows.join('\n')}\n`;
}

/**
 * Runs the drift check on the queue the first push came from, when the project and location are
 * known to make its full path (GetQueue needs it); otherwise says how to enable the check.
 */
export function firstQueueDrift(config: ExecutorConfig, queueId: string, check: (queue: string) => void, logger: Logger): void {
  if (config.project === undefined || config.tasksLocation === undefined) {
    logger.info(
      { queue: queueId },
      'queue drift check skipped: set EXECUTOR_QUEUE (or GOOGLE_CLOUD_PROJECT and TASKS_LOCATION) so the executor can read its queue',
    );
    return;
  }
  check(queuePath(config.project, config.tasksLocation, queueId));
}

/** Entry point of `executor serve`. Throws a ConfigError (printed by the CLI, exit 1) on bad configuration. */
export async function runServe(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help());
    return;
  }
  if (argv.length > 0) {
    process.stderr.write(`executor serve: takes no arguments (configuration comes from the environment), got '${argv.join(' ')}'\n`);
    process.exitCode = 2;
    return;
  }
  // A variable that is nearly one of ours is most likely a typo that would silently keep a default.
  for (const { given, meant } of nearMissVariables(process.env, Object.keys(CONFIG_VARIABLES))) {
    process.stderr.write(`executor serve: warning: ${given} is not a variable of executor serve (ignored); did you mean ${meant}?\n`);
  }
  const config = loadConfig(process.env);
  const format = chooseLogFormat(config.logFormat, { isTTY: process.stdout.isTTY === true, onCloudRun: config.onCloudRun === true });
  const logger = makeLogger({ level: config.logLevel, format });
  // Past the drain, answering stragglers and closing gets one second more before exit is forced:
  // with the default 8 s grace the process is gone by 9 s, inside Cloud Run's 10 s SIGKILL.
  const stop = untilStopSignal({ logger, graceMs: config.shutdownGraceMs + 1000 });
  const tasks = makeTasksClient(config.emulatorHost !== undefined ? { emulatorHost: config.emulatorHost } : {});

  if (config.auth.disabled) logger.warn('AUTH_DISABLED=true: pushes are accepted without authentication; never do this outside a laptop');
  if (config.notifierQueue === undefined && config.notifyTopic !== undefined) logger.info({ notifyTopic: config.notifyTopic }, 'NOTIFY_TOPIC without NOTIFIER_QUEUE: outcomes are published to the topic only, no webhook is called');
  else if (config.notifierQueue === undefined) logger.warn('NOTIFIER_QUEUE is not set: no notifications can be sent');
  if (config.next === undefined && config.nextTopic === undefined) logger.info('no PROBLEM_QUEUE or NEXT_TOPIC: this is the last tier; spent budgets become failure notifications');
  // Pub/Sub pushes count their attempts by deliveryAttempt, which only a dead-letter policy brings.
  logger.info(
    { maxAttempts: config.maxAttempts, subscription: config.executorSubscription },
    'Pub/Sub pushes are counted by deliveryAttempt, sent only by subscriptions with a dead-letter policy: without one every delivery is attempt 1 and the budget cannot be counted' +
      (config.executorSubscription !== undefined ? '; checking EXECUTOR_SUBSCRIPTION' : '; the first Pub/Sub push names the subscription to check'),
  );

  // The drift check runs beside startup, never in front of it: a slow or unreachable Cloud Tasks
  // must not delay the port opening (Cloud Run's startup probe is waiting). Without EXECUTOR_QUEUE
  // the first authenticated push names the queue.
  const checkDrift = (queue: string): void => void checkQueueDrift({ client: tasks, queue, maxAttempts: config.maxAttempts, logger });
  const checkSubscription = (subscription: string): void =>
    void checkSubscriptionDrift({ client: makeSubscriberClient(config.pubsubEmulatorHost), subscription, maxAttempts: config.maxAttempts, logger });
  const executor = await startExecutor(config, {
    logger,
    tasksClient: tasks,
    ...(config.executorQueue === undefined ? { onFirstQueue: (id: string) => firstQueueDrift(config, id, checkDrift, logger) } : {}),
    ...(config.executorSubscription === undefined ? { onFirstSubscription: checkSubscription } : {}),
  }).catch(async (err: unknown) => {
    stop.done();
    await closeTasksClients().catch(() => undefined);
    await closePubSubClients().catch(() => undefined);
    if ((err as { code?: unknown })?.code === 'EADDRINUSE') {
      throw new CodedError('PORT_IN_USE', `cannot listen on ${config.host}:${config.port}: the port is in use (another executor or 'executor dev' still running?). Stop it, or set PORT to a free port`, { cause: err });
    }
    throw err;
  });
  if (config.executorQueue !== undefined) checkDrift(config.executorQueue);
  if (config.executorSubscription !== undefined) checkSubscription(config.executorSubscription);
  logger.info(
    { port: executor.port, tier: config.tier, maxAttempts: config.maxAttempts, worker: config.worker.kind, emulator: config.emulatorHost },
    'executor listening',
  );

  const signal = await stop.stopped;
  logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: refusing new pushes, finishing in-flight ones');
  try {
    await executor.close();
    await closeTasksClients();
    await closePubSubClients();
  } catch (err) {
    logger.error({ err }, 'error during shutdown');
  }
  logger.info('stopped');
  stop.done();
}
