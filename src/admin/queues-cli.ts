/**
 * `executor queues list|describe|create|update|pause|resume|purge|delete`: gcloud's queue commands
 * and flags, against the emulator or Google. Parse and check everything, then make one call.
 */
import { queueParent } from '../queues/index.js';
import { changeQueueState, createQueue, deleteQueue, getQueue, listQueues, updateQueue, type AdminCallOptions, type Queue } from '../queues/queue-admin.js';
import { COMMON_HELP, COMMON_OPTIONS, limitOf, parseCommand, resolveTarget, throwIfProblems, verbOf, type Target } from './args.js';
import { confirmDestructive } from './confirm.js';
import { explainAdminError } from './explain.js';
import { renderList, renderOne } from './format.js';
import { processIo, type AdminIo } from './io.js';
import { configFlagsGiven, queueConfigFromFlags, queueConfigHelp, queueConfigOptions } from './queue-config-flags.js';
import { QUEUE_COLUMNS, queueName } from './resources.js';

/**
 * One API call's options: Google gets 30 s and the client's retries; an emulator 10 s and none, so
 * one that is not running is reported at once rather than after the deadline.
 */
export function adminCallOptions(target: Target): AdminCallOptions {
  return target.emulatorHost !== undefined ? { timeout: 10_000, retry: null } : { timeout: 30_000 };
}

const VERBS = ['list', 'describe', 'create', 'update', 'pause', 'resume', 'purge', 'delete'] as const;
type Verb = (typeof VERBS)[number];

const SUMMARY: Record<Verb, string> = {
  list: 'list the queues of a location',
  describe: 'show one queue',
  create: 'create a queue (configuration flags below)',
  update: 'change a queue (configuration and --clear-… flags below)',
  pause: 'stop dispatching (tasks can still be added)',
  resume: 'dispatch again',
  purge: 'delete every task of the queue (asks first; --quiet to skip)',
  delete: 'delete the queue and its tasks (asks first; --quiet to skip)',
};

function help(): string {
  return `Usage: executor queues COMMAND [QUEUE] [flags]

Commands:
${VERBS.map((v) => `  ${v.padEnd(10)} ${SUMMARY[v]}`).join('\n')}

QUEUE is a queue id (with --project and --location) or projects/P/locations/L/queues/Q.

Flags:
${COMMON_HELP}
  --limit N              list: at most N queues (default 1000)
  -q, --quiet            purge, delete: do not ask for confirmation

Configuration flags (create, update), as gcloud tasks queues create/update:
${queueConfigHelp(true)}
`;
}

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...queueConfigOptions(true),
  limit: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** A parsed `executor queues` command line. */
export type QueuesCommand =
  | { verb: 'help' }
  | { verb: 'list'; target: Target; parent: string; limit: number }
  | { verb: 'create' | 'update'; target: Target; name: string; queue: Queue; paths: string[] }
  | { verb: 'describe' | 'pause' | 'resume'; target: Target; name: string }
  | { verb: 'purge' | 'delete'; target: Target; name: string; quiet: boolean };

/** Parses and checks an `executor queues` command line; every problem in one usage error. */
export function parseQueuesArgs(argv: string[], env: NodeJS.ProcessEnv): QueuesCommand {
  const { flags, positionals } = parseCommand('queues', argv, OPTIONS);
  const [verbText, queueText, ...extra] = positionals;
  const verb = verbOf('queues', verbText, VERBS, flags.help === true);
  if (verb === 'help') return { verb };
  const problems: string[] = [];
  if (extra.length > 0) problems.push(`unexpected arguments: ${extra.join(' ')}`);
  const target = resolveTarget(flags, env, problems);
  const config = queueConfigFromFlags(flags, problems);
  const configGiven = configFlagsGiven(flags);
  if (verb !== 'create' && verb !== 'update' && configGiven) problems.push(`queue configuration flags apply to create and update, not ${verb}`);
  if (verb === 'create' && Object.keys(flags).some((k) => k.startsWith('clear-'))) problems.push('--clear-… flags apply to update: a new queue starts with the defaults');
  if (verb === 'update' && !configGiven) problems.push('update needs at least one configuration or --clear-… flag (see --help)');
  if (flags.limit !== undefined && verb !== 'list') problems.push('--limit applies to list');
  if (flags.quiet !== undefined && verb !== 'purge' && verb !== 'delete') problems.push('--quiet applies to purge and delete');

  if (verb === 'list') {
    if (queueText !== undefined) problems.push(`list takes no QUEUE (got '${queueText}'): it lists the queues of --project and --location`);
    const limit = limitOf(flags, problems);
    if (target.project === undefined || target.location === undefined) {
      problems.push('list needs --project and --location (or GOOGLE_CLOUD_PROJECT and TASKS_LOCATION), or --emulator HOST:PORT for the local stack');
    }
    throwIfProblems('queues', problems);
    return { verb, target, parent: `projects/${target.project}/locations/${target.location}`, limit };
  }
  const name = queueName('QUEUE', queueText, target, problems);
  throwIfProblems('queues', problems);
  if (verb === 'create' || verb === 'update') return { verb, target, name: name!, queue: { ...config.queue, name: name! }, paths: config.paths };
  if (verb === 'purge' || verb === 'delete') return { verb, target, name: name!, quiet: flags.quiet === true };
  return { verb, target, name: name! };
}

/** Runs a parsed command; resolves with its output. */
async function execute(cmd: Exclude<QueuesCommand, { verb: 'help' }>, io: AdminIo): Promise<string> {
  const { target } = cmd;
  if (cmd.verb === 'purge' || cmd.verb === 'delete') {
    const question = cmd.verb === 'purge' ? `Delete every task of queue ${cmd.name}?` : `Delete queue ${cmd.name} and its tasks?`;
    await confirmDestructive(io, `queues ${cmd.verb}`, question, cmd.quiet);
  }
  const client = io.client(target.emulatorHost);
  const endpoint = target.emulatorHost !== undefined ? { emulatorHost: target.emulatorHost } : {};
  const t = adminCallOptions(target);
  try {
    switch (cmd.verb) {
      case 'list':
        return renderList(target.format, QUEUE_COLUMNS, await listQueues(client, cmd.parent, cmd.limit, t), `Listed 0 queues in ${cmd.parent}.`);
      case 'describe':
        return renderOne(target.format, await getQueue(client, cmd.name, t));
      case 'create':
        return renderOne(target.format, await createQueue(client, queueParent(cmd.name), cmd.queue, t));
      case 'update':
        return renderOne(target.format, await updateQueue(client, cmd.queue, cmd.paths, t));
      case 'pause':
      case 'resume':
      case 'purge': {
        const queue = await changeQueueState(client, cmd.name, cmd.verb, t);
        return target.format === 'table' ? `${cmd.verb === 'purge' ? 'Purged' : cmd.verb === 'pause' ? 'Paused' : 'Resumed'} queue ${cmd.name}.\n` : renderOne(target.format, queue);
      }
      case 'delete':
        await deleteQueue(client, cmd.name, t);
        return target.format === 'table' ? `Deleted queue ${cmd.name}.\n` : renderOne(target.format, { name: cmd.name });
    }
  } catch (err) {
    throw explainAdminError(err, { resource: 'queue', name: cmd.verb === 'list' ? cmd.parent : cmd.name, verb: cmd.verb }, endpoint);
  } finally {
    await client.close();
  }
}

/** `executor queues …` with the given environment and output (tests); the CLI passes the process's. */
export async function runQueuesCommand(argv: string[], io: AdminIo): Promise<void> {
  const cmd = parseQueuesArgs(argv, io.env);
  io.out(cmd.verb === 'help' ? help() : await execute(cmd, io));
}

/** The `executor queues` entry. */
export const runQueuesCli = (argv: string[]): Promise<void> => runQueuesCommand(argv, processIo());
