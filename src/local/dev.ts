/**
 * `executor dev` (= `npm start`): the whole chain on one machine, no cloud account, no Docker.
 * Starts the stack, submits a demo batch through the official client, shows live progress from the
 * components' real counters, prints a summary and keeps serving until Ctrl-C (or, with
 * `--exit-when-done`, exits 0 when every job got exactly one notification with the expected outcome).
 *
 * `executor dev --webhook-only` runs just the webhook receiver (docker-compose's `webhook` service).
 */
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { CodedError } from '../errors.js';
import { loadLogFormat } from '../config.js';
import { chooseLogFormat, makeLogger } from '../log.js';
import { queueParent } from '../queues/paths.js';
import { untilStopSignal } from '../signals.js';
import { expectedOutcomes, planBatch, submitBatch } from './batch.js';
import { LOCAL_SERVICE_ACCOUNT, WEBHOOK_PATH } from './defaults.js';
import { DEV_USAGE, parseDevArgs, type DevOptions, type WebhookOnlyOptions } from './dev-args.js';
import { ProgressLine, formatProgress, formatSummary, isPerfect, isPubSubPerfect, type PubSubSummary, type Summary, type TierCounters } from './progress.js';
import { publishBatch } from './pubsub-path.js';
import type { Stack } from './stack.js';
import { STACK_QUEUES } from './queues-check.js';
import type { Outcome } from './tally.js';
import { startWebhook } from './webhook.js';

/** Entry point of `executor dev`. */
export async function runDev(argv: string[]): Promise<void> {
  const options = parseDevArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${DEV_USAGE}\n`);
    return;
  }
  if (options.mode === 'webhook-only') return runWebhookOnly(options);
  return runStack(options);
}

async function runWebhookOnly(options: WebhookOnlyOptions): Promise<void> {
  const destination = options.logFile !== undefined ? pino.destination({ dest: options.logFile, mkdir: true, sync: false }) : undefined;
  const { logFormat, onCloudRun } = loadLogFormat();
  // A log file gets JSON unless LOG_FORMAT says otherwise; stdout follows the terminal.
  const format = chooseLogFormat(logFormat, { isTTY: destination === undefined && process.stdout.isTTY === true, onCloudRun });
  const logger = makeLogger({ level: options.logLevel, base: { component: 'webhook' }, format, ...(destination !== undefined ? { destination } : {}) });
  const { stopped, done } = untilStopSignal({ logger });
  const webhook = await startWebhook({ host: options.host, port: options.port, logger }).catch((err: unknown) => {
    done();
    throw err;
  });
  logger.info({ url: webhook.url, notify: `${webhook.url}${WEBHOOK_PATH}`, stats: `${webhook.url}/stats` }, `webhook listening on ${options.host}:${webhook.port}`);
  const signal = await stopped;
  logger.info({ signal, ...webhook.tally.snapshot() }, 'webhook stopping');
  await webhook.close();
  if (destination !== undefined) await closeDestination(destination);
  done();
}

/**
 * How the user runs this CLI again: `node dist/cli.js` (what `npm start` runs) when built; the tsx
 * form only when the sources run directly (tests). Never `npx executor`: in a checkout npx would
 * install the checkout into its cache, and outside one it offers an unrelated npm package.
 */
function selfCommand(): string {
  return import.meta.url.endsWith('.ts') ? 'npx tsx src/cli.ts' : 'node dist/cli.js';
}

/** Flushes and closes a pino file destination (it may still be opening when a start fails). */
function closeDestination(d: ReturnType<typeof pino.destination>): Promise<void> {
  return new Promise((resolve) => {
    d.once('close', () => resolve());
    d.once('error', () => resolve());
    d.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function allCounters(stack: Stack): Promise<TierCounters[]> {
  return Promise.all(stack.tiers.map((t) => t.counters()));
}

/** The banner's line on what the tiers run. */
function describeWork(options: DevOptions): string {
  const w = options.work;
  if ('WORKER_URL' in w) return `HTTP worker ${w.WORKER_URL}`;
  if ('WORKER_COMMAND' in w) return `command ${w.WORKER_COMMAND}`;
  return w.WORKER_MODULE === 'demo' ? 'the demo handler (--worker-module FILE for your own)' : `handler module ${w.WORKER_MODULE}`;
}

function banner(stack: Stack, options: DevOptions, logFile: string): string {
  const [tier1, tier2] = stack.tiers;
  const e = stack.emulator;
  const queuesUrl = `${e.url}/v2/${queueParent(stack.incomingQueue)}/queues`;
  return [
    `executor dev — the whole chain on this machine (component logs: ${logFile})`,
    `  dashboard ${e.dashboardUrl}  queues, tasks, dead letters and notifications, live`,
    `  emulator  ${e.address}  gRPC + REST; point your own client at it:`,
    `              export CLOUD_TASKS_EMULATOR_HOST=${e.address}`,
    `              curl ${queuesUrl}`,
    `  tier 1    ${tier1!.url}  MAX_ATTEMPTS ${tier1!.maxAttempts}, pushed from '${STACK_QUEUES.tier1}', forwards to '${STACK_QUEUES.tier2}'`,
    `  tier 2    ${tier2!.url}  MAX_ATTEMPTS ${tier2!.maxAttempts}, pushed from '${STACK_QUEUES.tier2}', last tier`,
    `  webhook   ${stack.webhookUrl}  (counts: ${stack.webhook.url}/stats, last notifications: ${stack.webhook.url}/notifications)`,
    `  pubsub    topic '${shortId(stack.pubsub.jobsTopic)}' pushed to tier 1 by '${shortId(stack.pubsub.tier1Subscription)}' (OIDC, dead letters to '${shortId(stack.pubsub.deadLetterTopic)}');`,
    `            every outcome on '${shortId(stack.pubsub.resultsTopic)}', pushed to the webhook's /results; export PUBSUB_EMULATOR_HOST=${e.address}`,
    `  work      ${describeWork(options)} (both tiers)`,
    `  OIDC on: the emulator signs every push, the tiers verify it against ${e.jwksUrl}`,
    '',
  ].join('\n');
}

const shortId = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** The Pub/Sub path's part of the summary: the results topic reconciled with every job of both paths. */
function summarizePubSub(stack: Stack, all: Map<string, Outcome>, jobs: number, invalid: number): PubSubSummary {
  const r = stack.webhook.results.reconcile(all, (outcome) => (outcome === 'succeeded' ? 1 : stack.tiers.length));
  const counts = stack.webhook.results.snapshot();
  const { lostSample, wrongSample: _wrong, ...results } = r;
  return {
    jobs,
    invalid,
    results,
    redelivered: stack.webhook.resultsRedelivered(),
    undecodable: counts.undecodable,
    deadLetterOutcomes: counts.deadLetters,
    deadLettered: stack.emulator.pubsubStats().deadLettered,
    ...(lostSample.length > 0 ? { lostSample } : {}),
  };
}

/** The run's summary: the webhook's tally reconciled with the plan, and the components' counters. */
function summarize(
  stack: Stack,
  expected: Map<string, Outcome>,
  tiers: TierCounters[],
  run: { seconds: number; timedOut: boolean; invalid: number; pubsub: PubSubSummary },
): Summary {
  // Valid jobs end at tier 1; invalid ones are failed by the last tier.
  const r = stack.webhook.tally.reconcile(expected, (outcome) => (outcome === 'succeeded' ? 1 : stack.tiers.length));
  const stats = stack.emulator.stats();
  return {
    ok: !run.timedOut && isPerfect(r, stats.dropped) && isPubSubPerfect(run.pubsub),
    jobs: r.jobs,
    succeeded: r.succeeded,
    failed: r.failed,
    lost: r.lost,
    duplicates: r.duplicates,
    wrongOutcome: r.wrongOutcome,
    wrongTier: r.wrongTier,
    unexpected: r.unexpected,
    seconds: Math.round(run.seconds * 100) / 100,
    timedOut: run.timedOut,
    invalid: run.invalid,
    tiers: tiers.map((t, i) => ({ tier: i + 1, maxAttempts: stack.tiers[i]!.maxAttempts, ...t })),
    emulator: { address: stack.emulator.address, created: stats.created, dispatched: stats.dispatched, dropped: stats.dropped },
    ...(r.lostSample.length > 0 || r.wrongSample.length > 0
      ? { samples: { ...(r.lostSample.length > 0 ? { lost: r.lostSample } : {}), ...(r.wrongSample.length > 0 ? { wrongOutcome: r.wrongSample } : {}) } }
      : {}),
    pubsub: run.pubsub,
  };
}

/**
 * The whole `executor dev` run: start, submit, watch, summarize, keep serving. (One story on
 * purpose: its steps share the stack, the progress line and the stop flag; the summary is
 * {@link summarize}.)
 */
async function runStack(options: DevOptions): Promise<void> {
  // With --json, stdout carries the summary object only; everything for humans goes to stderr.
  const human = options.json ? process.stderr : process.stdout;
  // Truncated per run: the log tells the story of this run only.
  const destination = pino.destination({ dest: options.logFile, mkdir: true, sync: false, append: false });
  const logger: Logger = makeLogger({ level: options.logLevel, destination });
  const rel = relative(process.cwd(), options.logFile);
  const logName = rel !== '' && !rel.startsWith('..') ? rel : options.logFile;
  const { stopped, done } = untilStopSignal({ logger });
  // An object, not a `let`: the signal arrives in a callback, and the loops below re-read it.
  const stop: { signal?: string } = {};
  void stopped.then((s) => {
    stop.signal = s;
  });
  const received = (): string => stop.signal ?? 'stop';

  let stack: Stack;
  try {
    // Imported here so `--webhook-only` (a container of its own) never loads the emulator or executor.
    const { startStack } = await import('./stack.js');
    stack = await startStack(options, logger);
  } catch (err) {
    await closeDestination(destination);
    done();
    throw err;
  }

  try {
    human.write(`${banner(stack, options, logName)}\n`);
    const runId = `job-${randomBytes(3).toString('hex')}`;
    const plan = planBatch(options.jobs, options.invalidRatio, options.encoding, runId);
    const expected = expectedOutcomes(plan);
    const invalid = plan.filter((j) => j.invalid).length;
    // The Pub/Sub jobs name no webhook: their outcomes reach the client through the results topic,
    // which also carries every Cloud Tasks job's outcome — so it must account for both batches.
    const psPlan = planBatch(options.pubsubJobs, options.invalidRatio, options.encoding, `${runId}-ps`);
    const allExpected = new Map([...expected, ...expectedOutcomes(psPlan)]);
    const psInvalid = psPlan.filter((j) => j.invalid).length;
    if (options.jobs > 0) {
      human.write(`Submitting ${options.jobs} jobs (${invalid} invalid) into '${STACK_QUEUES.tier1}' through the official client…\n`);
    }
    if (options.pubsubJobs > 0) {
      human.write(`Publishing ${options.pubsubJobs} jobs (${psInvalid} invalid) to the topic '${shortId(stack.pubsub.jobsTopic)}' through the official client…\n`);
    }

    const progress = new ProgressLine(human);
    let submitted = 0;
    let submitError: unknown;
    const started = Date.now();
    const submitting = submitBatch(
      stack.client,
      plan,
      {
        queue: stack.incomingQueue,
        url: `${stack.tiers[0]!.url}/`,
        webhookUrl: stack.webhookUrl,
        serviceAccount: LOCAL_SERVICE_ACCOUNT,
        endpoint: { emulatorHost: stack.emulator.address },
      },
      () => {
        submitted += 1;
      },
    ).catch((err: unknown) => {
      submitError = err;
    });
    let published = 0;
    const publishing = publishBatch(stack.pubsub.publisher, stack.pubsub.jobsTopic, psPlan, () => {
      published += 1;
    }).catch((err: unknown) => {
      submitError ??= err;
    });

    let finished = false;
    const show = async (force = false): Promise<TierCounters[]> => {
      const tiers = await allCounters(stack);
      const seconds = finished ? undefined : (Date.now() - started) / 1000;
      const pubsub = { published, jobs: psPlan.length, results: stack.webhook.results.jobsNotified };
      progress.update(formatProgress({ submitted, jobs: options.jobs, tiers, webhook: stack.webhook.tally.snapshot(), pubsub, ...(seconds !== undefined ? { seconds } : {}) }), force);
      return tiers;
    };

    // Wait until every job is accounted for, the time is up, submission failed, or Ctrl-C.
    let timedOut = false;
    for (;;) {
      if (stop.signal !== undefined || submitError !== undefined) break;
      const everyJob = stack.webhook.tally.allNotified(expected.keys()) && stack.webhook.results.allNotified(allExpected.keys());
      if (submitted === plan.length && published === psPlan.length && everyJob) break;
      if (Date.now() - started > options.timeoutMs) {
        timedOut = true;
        break;
      }
      await show();
      await sleep(200);
    }
    const seconds = (Date.now() - started) / 1000;
    await submitting;
    await publishing;
    if (submitError !== undefined) {
      progress.done();
      throw submitError instanceof CodedError ? submitError : new CodedError('DEV_SUBMIT_FAILED', `Submitting the demo batch failed: ${submitError instanceof Error ? submitError.message : JSON.stringify(submitError)}`, { cause: submitError });
    }
    if (stop.signal !== undefined) {
      progress.done();
      human.write(`\n${stop.signal}: stopping before the batch finished.\n`);
      process.exitCode = options.exitWhenDone ? 1 : 0;
      return;
    }

    // Let the queues settle so a late duplicate notification would still be counted.
    if (!timedOut) await stack.emulator.waitForIdle({ timeoutMs: 5000 }).catch(() => undefined);
    const tiers = await show(true);
    progress.done();

    const summary = summarize(stack, expected, tiers, { seconds, timedOut, invalid, pubsub: summarizePubSub(stack, allExpected, psPlan.length, psInvalid) });
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else human.write(`${formatSummary(summary)}\n`);

    if (options.exitWhenDone) {
      process.exitCode = summary.ok ? 0 : 1;
      return;
    }

    human.write(
      [
        '',
        'Still serving — Ctrl-C to stop. Send more work from another terminal:',
        `  ${selfCommand()} submit --emulator ${stack.emulator.address} --url ${stack.tiers[0]!.url}/ --webhook ${stack.webhookUrl} [--invalid] [--count N]`,
        '',
      ].join('\n'),
    );
    // Keep the line live for work submitted by hand (no clock: it changes only when work arrives).
    finished = true;
    while (stop.signal === undefined) {
      if (human.isTTY === true) await show();
      await Promise.race([sleep(500), stopped]);
    }
    progress.done();
    human.write(`${received()}: stopping.\n`);
  } finally {
    await stack.close();
    await closeDestination(destination);
    done();
  }
}
