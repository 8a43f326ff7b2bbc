/**
 * `executor tasks list|describe|run|delete`: gcloud's task commands and flags (`--queue`), against
 * the emulator or Google. Parse and check everything, then make one call.
 */
import { deleteTask, getTask, listTasks, runTask } from '../queues/task-admin.js';
import { COMMON_HELP, COMMON_OPTIONS, limitOf, parseCommand, resolveTarget, throwIfProblems, verbOf, type Target } from './args.js';
import { confirmDestructive } from './confirm.js';
import { explainAdminError } from './explain.js';
import { renderList, renderOne } from './format.js';
import { processIo, type AdminIo } from './io.js';
import { adminCallOptions } from './queues-cli.js';
import { TASK_COLUMNS, queueName, taskName } from './resources.js';

const VERBS = ['list', 'describe', 'run', 'delete'] as const;

function help(): string {
  return `Usage: executor tasks COMMAND [TASK] --queue QUEUE [flags]

Commands:
  list       list the tasks waiting in --queue
  describe   show one task (its body and headers too with --response-view full)
  run        dispatch a task now, even in a paused queue or before its schedule time
  delete     delete a task (asks first; --quiet to skip)

TASK is a task id (with --queue) or projects/P/locations/L/queues/Q/tasks/T.

Flags:
  --queue Q              the queue: an id (with --project and --location) or a full path
${COMMON_HELP}
  --limit N              list: at most N tasks (default 1000)
  --response-view V      basic (default) or full (with body and headers), as gcloud's
  -q, --quiet            delete: do not ask for confirmation
`;
}

const OPTIONS = {
  ...COMMON_OPTIONS,
  queue: { type: 'string' },
  limit: { type: 'string' },
  'response-view': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** A parsed `executor tasks` command line. */
export type TasksCommand =
  | { verb: 'help' }
  | { verb: 'list'; target: Target; queue: string; limit: number; view: 'BASIC' | 'FULL' }
  | { verb: 'describe'; target: Target; name: string; view: 'BASIC' | 'FULL' }
  | { verb: 'run'; target: Target; name: string }
  | { verb: 'delete'; target: Target; name: string; quiet: boolean };

/** Parses and checks an `executor tasks` command line; every problem in one usage error. */
export function parseTasksArgs(argv: string[], env: NodeJS.ProcessEnv): TasksCommand {
  const { flags, positionals } = parseCommand('tasks', argv, OPTIONS);
  const [verbText, taskText, ...extra] = positionals;
  const verb = verbOf('tasks', verbText, VERBS, flags.help === true);
  if (verb === 'help') return { verb };
  const problems: string[] = [];
  if (extra.length > 0) problems.push(`unexpected arguments: ${extra.join(' ')}`);
  const target = resolveTarget(flags, env, problems);
  const viewText = typeof flags['response-view'] === 'string' ? flags['response-view'].toLowerCase() : 'basic';
  if (viewText !== 'basic' && viewText !== 'full') problems.push(`--response-view must be basic or full, got '${String(flags['response-view'])}'`);
  const view = viewText === 'full' ? 'FULL' : 'BASIC';
  if (flags['response-view'] !== undefined && verb !== 'list' && verb !== 'describe') problems.push('--response-view applies to list and describe');
  if (flags.limit !== undefined && verb !== 'list') problems.push('--limit applies to list');
  if (flags.quiet !== undefined && verb !== 'delete') problems.push('--quiet applies to delete');
  const queueFlag = typeof flags.queue === 'string' ? flags.queue : undefined;

  if (verb === 'list') {
    if (taskText !== undefined) problems.push(`list takes no TASK (got '${taskText}'): it lists the tasks of --queue`);
    const limit = limitOf(flags, problems);
    const queue = queueName('--queue', queueFlag, target, problems);
    throwIfProblems('tasks', problems);
    return { verb, target, queue: queue!, limit, view };
  }
  const name = taskName(taskText, queueFlag, target, problems);
  throwIfProblems('tasks', problems);
  if (verb === 'describe') return { verb, target, name: name!, view };
  if (verb === 'delete') return { verb, target, name: name!, quiet: flags.quiet === true };
  return { verb, target, name: name! };
}

async function execute(cmd: Exclude<TasksCommand, { verb: 'help' }>, io: AdminIo): Promise<string> {
  const { target } = cmd;
  if (cmd.verb === 'delete') await confirmDestructive(io, 'tasks delete', `Delete task ${cmd.name}?`, cmd.quiet);
  const client = io.client(target.emulatorHost);
  const endpoint = target.emulatorHost !== undefined ? { emulatorHost: target.emulatorHost } : {};
  const t = adminCallOptions(target);
  try {
    switch (cmd.verb) {
      case 'list':
        return renderList(target.format, TASK_COLUMNS, await listTasks(client, cmd.queue, cmd.limit, cmd.view, t), `Listed 0 tasks in ${cmd.queue}.`);
      case 'describe':
        return renderOne(target.format, await getTask(client, cmd.name, cmd.view, t));
      case 'run': {
        const task = await runTask(client, cmd.name, t);
        return target.format === 'table' ? `Dispatched task ${cmd.name}.\n` : renderOne(target.format, task);
      }
      case 'delete':
        await deleteTask(client, cmd.name, t);
        return target.format === 'table' ? `Deleted task ${cmd.name}.\n` : renderOne(target.format, { name: cmd.name });
    }
  } catch (err) {
    // A missing queue reads as such, not as a missing task.
    const resource = cmd.verb === 'list' ? 'queue' : 'task';
    throw explainAdminError(err, { resource, name: cmd.verb === 'list' ? cmd.queue : cmd.name, verb: cmd.verb }, endpoint);
  } finally {
    await client.close();
  }
}

/** `executor tasks …` with the given environment and output (tests); the CLI passes the process's. */
export async function runTasksCommand(argv: string[], io: AdminIo): Promise<void> {
  const cmd = parseTasksArgs(argv, io.env);
  io.out(cmd.verb === 'help' ? help() : await execute(cmd, io));
}

/** The `executor tasks` entry. */
export const runTasksCli = (argv: string[]): Promise<void> => runTasksCommand(argv, processIo());
