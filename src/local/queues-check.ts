/**
 * Checks, before anything starts, that the queues file gives the local stack what it needs: the
 * four queues exist, and each executor queue allows more attempts than its tier's MAX_ATTEMPTS —
 * otherwise the queue would drop a task whose handoff failed on the last attempt (see DESIGN.md,
 * "Budget spent → handoff, exactly once"). The emulator validates the file's syntax itself.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** The queues `executor dev` uses, by role. */
export const STACK_QUEUES = { tier1: 'incoming', tier2: 'incoming-2', notifier: 'notifier', deadLetter: 'dead-letter' } as const;

/** Production's default when a queue sets no maxAttempts. */
const DEFAULT_MAX_ATTEMPTS = 100;

const fileSchema = z.object({
  project: z.string().optional(),
  location: z.string().optional(),
  queues: z.array(
    z.looseObject({
      name: z.string(),
      retryConfig: z.looseObject({ maxAttempts: z.number().optional() }).optional(),
    }),
  ),
});

/** What the stack needs to know of the queues file. */
export interface StackQueues {
  /** Default project of short queue names. */
  project: string;
  /** Default location. */
  location: string;
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
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(parse(text));
  } catch (err) {
    const detail = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
    throw new ConfigError('QUEUES_FILE_INVALID', [`${file}: ${detail}`], 'Invalid queues file');
  }
  const project = parsed.project ?? 'local-project';
  const location = parsed.location ?? 'us-central1';
  const byId = new Map(parsed.queues.map((q) => [q.name.split('/').pop() ?? q.name, q]));
  const problems: string[] = [];
  for (const id of Object.values(STACK_QUEUES)) {
    if (!byId.has(id)) problems.push(`${file} declares no queue '${id}': the local stack needs ${Object.values(STACK_QUEUES).join(', ')}`);
  }
  for (const [role, budget] of [['tier1', budgets.tier1], ['tier2', budgets.tier2]] as const) {
    const id = STACK_QUEUES[role];
    const q = byId.get(id);
    if (q === undefined) continue;
    const max = q.retryConfig?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (max !== -1 && max <= budget) {
      problems.push(
        `queue '${id}' allows ${max} attempts but tier ${role === 'tier1' ? 1 : 2}'s MAX_ATTEMPTS is ${budget}: set its retryConfig.maxAttempts above ${budget} (or -1), or lower --${role}-max-attempts`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError('QUEUES_FILE_INVALID', problems, 'The queues file does not fit the local stack');
  return { project, location };
}
