/**
 * "Did you mean …?" for the command line and the environment: the nearest known name to a
 * mistyped one, when it is near enough to be the likely intent.
 */
import { closest, distance } from 'fastest-levenshtein';
import { messageOf } from './errors.js';

/**
 * The known name nearest to `word` (case-insensitive), or undefined when none is close: at most
 * one edit below `twoEditsFrom` characters, two from there on. The environment keeps the default
 * 6, so HOME never suggests HOST; flags allow a swapped pair from 4 (--jbos → --jobs).
 */
export function nearest(word: string, known: readonly string[], twoEditsFrom = 6): string | undefined {
  if (known.length === 0) return undefined;
  const upper = word.toUpperCase();
  const byUpper = new Map(known.map((k) => [k.toUpperCase(), k]));
  const hit = closest(upper, [...byUpper.keys()]);
  const limit = upper.length >= twoEditsFrom ? 2 : 1;
  return distance(upper, hit) <= limit ? byUpper.get(hit) : undefined;
}

/**
 * One line for a node:util parseArgs failure: an unknown option names the nearest known one
 * (`unknown option '--jbos' (did you mean --jobs?)`); other failures keep parseArgs' wording.
 */
export function describeArgsError(err: unknown, flags: readonly string[]): string {
  const code = (err as { code?: unknown })?.code;
  const message = messageOf(err);
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const given = /'(-[^']+)'/.exec(message)?.[1] ?? '';
  const name = given.replace(/^-+/, '').replace(/=.*$/, '');
  const hint = nearest(name, flags, 4);
  return `unknown option '${given}'${hint !== undefined ? ` (did you mean --${hint}?)` : ''}`;
}

/**
 * Variables of the environment that look like one of ours but are not (MAX_ATTEMPT for
 * MAX_ATTEMPTS, max_attempts): each with the name it probably meant.
 */
export function nearMissVariables(env: NodeJS.ProcessEnv, known: readonly string[]): { given: string; meant: string }[] {
  const ours = new Set(known);
  const out: { given: string; meant: string }[] = [];
  for (const given of Object.keys(env)) {
    if (ours.has(given)) continue;
    const meant = nearest(given, known);
    if (meant !== undefined) out.push({ given, meant });
  }
  return out;
}
