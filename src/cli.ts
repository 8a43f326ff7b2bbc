#!/usr/bin/env node
/**
 * The `executor` command. Each subcommand lives in the module that owns it and is imported lazily,
 * so `executor serve` never loads the emulator and vice versa.
 */
// First: on an unsupported Node this prints one line and exits before anything else loads.
import './node-version.js';
import { CodedError } from './errors.js';

/** A subcommand: receives its own arguments, resolves when the command is done (servers: on shutdown). */
type Command = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
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
    summary: 'send work requests into a queue through the official client',
    load: async () => (await import('./local/submit.js')).runSubmit,
  },
  simulate: {
    summary: 'compare tier configurations on a scenario, on the emulator engine with a virtual clock',
    load: async () => (await import('./simulate/cli.js')).runSimulateCli,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: executor <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'executor <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`executor: unknown command '${name}'\n\n${usage()}\n`);
    process.exitCode = 2;
    return;
  }
  const run = await command.load();
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Coded errors are expected failures (bad config, missing queue): print the message alone.
  if (err instanceof CodedError) {
    process.stderr.write(`executor: ${err.message}\n`);
  } else {
    process.stderr.write(`executor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
