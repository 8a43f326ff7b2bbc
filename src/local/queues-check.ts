/**
 * Checks, before anything starts, that the queues file gives the local stack what it needs: the
 * four queues exist, and each executor queue allows more attempts than its tier's MAX_ATTEMPTS
 * (the rule of src/queues/attempts.ts). The file is read by the emulator's own reader, so the
 * check and the emulator can never disagree about what it says.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { loadQueuesFile } from '../emulator/queues-file.js';
import { assessQueueAttempts } from '../queues/attempts.js';
import { shortName } from '../queues/names.js';
import { parseQueuePath } from '../queues/paths.js';

/** The queues `executor dev` uses, by role. */
export const STACK_QUEUES = { tier1: 'incoming', tier2: 'incoming-2', notifier: 'notifier', deadLetter: 'dead-letter' } as const;

/** What the stack needs to know of the queues file. */
export interface StackQueues {
  /** Project of the stack's queues. */
  project: string;
  /** Their location. */
  location: string;
  /** Short ids of the queues whose `defaultTarget` the file sets (the stack leaves those alone). */
  withDefaultTarget: ReadonlySet<string>;
}

/**
 * Reads `file` and checks it against the tiers' budgets; returns the project and location the
 * queues live in. Throws a ConfigError naming each problem and the fix.
 */
export async function checkQueuesFile(file: string, budgets: { tier1: number; tier2: number }): Promise<StackQueues> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError('QUEUES_FILE_UNREADABLE', [`Cannot read the queues file ${file}: ${(err as Error).message}`], 'Invalid queues file');
  }
  let queues: ReturnType<typeof loadQueuesFile>;
  try {
    queues = loadQueuesFile({ text });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError('QUEUES_FILE_INVALID', err.problems.map((p) => `${file}: ${p}`), 'Invalid queues file');
  }
  const byId = new Map(queues.map((q) => [shortName(q.input.name ?? ''), q.input]));
  const problems: string[] = [];
  for (const id of Object.values(STACK_QUEUES)) {
    if (!byId.has(id)) problems.push(`${file} declares no queue '${id}': the local stack needs ${Object.values(STACK_QUEUES).join(', ')}`);
  }
  for (const [role, budget] of [['tier1', budgets.tier1], ['tier2', budgets.tier2]] as const) {
    const id = STACK_QUEUES[role];
    const q = byId.get(id);
    if (q === undefined) continue;
    const verdict = assessQueueAttempts(q.retryConfig?.maxAttempts ?? 0, budget);
    if (!verdict.ok) {
      problems.push(
        `queue '${id}' allows ${verdict.effective} attempts but tier ${role === 'tier1' ? 1 : 2}'s MAX_ATTEMPTS is ${budget}: set its retryConfig.maxAttempts above ${budget} (or -1), or lower --${role}-max-attempts`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError('QUEUES_FILE_INVALID', problems, 'The queues file does not fit the local stack');
  // The stack's queues all live where tier 1's does (the emulator resolves short names the same way).
  const incoming = parseQueuePath(byId.get(STACK_QUEUES.tier1)!.name ?? '')!;
  const withDefaultTarget = new Set(queues.filter((q) => q.defaultTarget !== undefined).map((q) => shortName(q.input.name ?? '')));
  return { project: incoming.project, location: incoming.location, withDefaultTarget };
}
