/** The confirmation purge and delete ask for, as gcloud does: `--quiet` skips it; no terminal needs `--quiet`. */
import { CodedError, ConfigError } from '../errors.js';
import type { AdminIo } from './io.js';

/** Resolves when the user confirmed (or passed --quiet); throws otherwise. */
export async function confirmDestructive(io: AdminIo, command: string, question: string, quiet: boolean): Promise<void> {
  if (quiet) return;
  if (io.confirm === undefined) {
    throw new ConfigError('ADMIN_ARGS_INVALID', [`${command} deletes tasks and cannot be undone; without a terminal to confirm on, pass --quiet (-q) to go ahead`], `executor ${command} needs confirmation`);
  }
  if (!(await io.confirm(question))) throw new CodedError('ADMIN_NOT_CONFIRMED', `${command}: not confirmed, nothing changed`);
}
