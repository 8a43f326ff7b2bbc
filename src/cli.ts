#!/usr/bin/env node
/**
 * The `executor` command. Each subcommand lives in the module that owns it and is imported lazily,
 * so `executor serve` never loads the emulator and vice versa. commander dispatches, prints
 * `--version` and the command list, and suggests the nearest command for a typo; each subcommand
 * parses its own options. Exit codes: 0 done, 1 runtime failure, 2 usage error (bad command,
 * option or flag value), with the usage on stderr.
 */
// First: on an unsupported Node this prints one line and exits before anything else loads.
import './node-version.js';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CodedError, ConfigError } from './errors.js';

/** A subcommand: receives its own arguments, resolves when the command is done (servers: on shutdown). */
type Run = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Run> }> = {
  serve: {
    summary: 'run an executor tier (configured by environment variables)',
    load: async () => (await import('./executor/serve.js')).runServe,
  },
  emulator: {
    summary: 'run the Cloud Tasks emulator (gRPC and REST on one port)',
    load: async () => (await import('./emulator/cli.js')).runEmulatorCli,
  },
  dev: {
    summary: 'run the whole chain locally: emulator, tiers, notifier, webhook, demo batch',
    load: async () => (await import('./local/dev.js')).runDev,
  },
  submit: {
    summary: 'send work requests into a queue (or a Pub/Sub topic) through the official client',
    load: async () => (await import('./local/submit.js')).runSubmit,
  },
  queues: {
    summary: 'list, describe, create, update, pause, resume, purge or delete queues (gcloud tasks queues …)',
    load: async () => (await import('./admin/queues-cli.js')).runQueuesCli,
  },
  tasks: {
    summary: 'list, describe, run or delete tasks (gcloud tasks …)',
    load: async () => (await import('./admin/tasks-cli.js')).runTasksCli,
  },
  simulate: {
    summary: 'compare tier configurations on a scenario, on the emulator engine with a virtual clock',
    load: async () => (await import('./simulate/cli.js')).runSimulateCli,
  },
};

/** Exit code of a usage error, as in getopt-based tools. */
export const EXIT_USAGE = 2;

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Whether an error is the user's command line (exit 2) rather than a failure while running (exit 1). */
function isUsageError(err: unknown): boolean {
  return err instanceof ConfigError && /_ARGS_INVALID$/.test(err.code);
}

function program(chosen: { run?: () => Promise<void> }): Command {
  const p = new Command('executor')
    .description('Executes tasks pushed by Google Cloud Tasks, chains failing ones through slower tiers, notifies clients; with a Cloud Tasks emulator.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .addHelpText('after', "\nRun 'executor <command> --help' for a command's options.");
  for (const [name, c] of Object.entries(COMMANDS)) {
    p.command(name)
      .description(c.summary)
      // The subcommand parses its own options (and prints its own --help).
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[args...]')
      .action((args: string[]) => {
        chosen.run = async () => (await c.load())(args);
      });
  }
  return p;
}

async function main(argv: string[]): Promise<void> {
  const chosen: { run?: () => Promise<void> } = {};
  const p = program(chosen);
  if (argv.length === 0) {
    p.outputHelp();
    return;
  }
  // `executor help dev` is `executor dev --help`: the subcommand's own, complete help.
  if (argv[0] === 'help' && argv[1] !== undefined && argv[1] in COMMANDS) argv = [argv[1], '--help'];
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; anything else is a usage error, already printed on stderr.
      if (err.exitCode !== 0) {
        process.stderr.write(`\n${p.helpInformation()}`);
        process.exitCode = EXIT_USAGE;
      }
      return;
    }
    throw err;
  }
  await chosen.run?.();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Coded errors are expected failures (bad config, missing queue): print the message alone.
  if (err instanceof CodedError) {
    process.stderr.write(`executor: ${err.message}\n`);
  } else {
    process.stderr.write(`executor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(isUsageError(err) ? EXIT_USAGE : 1);
});
