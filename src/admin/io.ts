/**
 * What an admin command touches outside itself — environment, output, the confirmation prompt, the
 * client — so tests run the commands against an in-process emulator without a terminal.
 */
import { createInterface } from 'node:readline/promises';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { newTasksClient } from '../queues/index.js';

export interface AdminIo {
  env: NodeJS.ProcessEnv;
  /** Writes to standard output. */
  out: (text: string) => void;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  /** A new client for the emulator at `emulatorHost`, or Google when undefined; closed after the command. */
  client: (emulatorHost: string | undefined) => CloudTasksClient;
}

/** The process's own: a prompt only when both standard input and standard error are terminals. */
export function processIo(): AdminIo {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  return {
    env: process.env,
    out: (text) => process.stdout.write(text),
    ...(interactive
      ? {
          confirm: async (question: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            try {
              return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
            } finally {
              rl.close();
            }
          },
        }
      : {}),
    client: (emulatorHost) => newTasksClient(emulatorHost),
  };
}
