/**
 * The flags every `executor queues` and `executor tasks` command shares, and where its calls go:
 * the emulator (`--emulator HOST:PORT` or CLOUD_TASKS_EMULATOR_HOST, with the local stack's project
 * and location as defaults) or Google with Application Default Credentials.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';
import { LOCAL_LOCATION, LOCAL_PROJECT } from '../local/defaults.js';
import { checkHostPort } from '../queues/index.js';
import { describeArgsError, nearest } from '../suggest.js';
import { FORMATS, type Format } from './format.js';

/** Options of every admin command. */
export const COMMON_OPTIONS = {
  project: { type: 'string' },
  location: { type: 'string' },
  emulator: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Help lines of the common options. */
export const COMMON_HELP = `  --project P            project (default GOOGLE_CLOUD_PROJECT; local-project on an emulator)
  --location L           location (default TASKS_LOCATION; us-central1 on an emulator)
  --emulator HOST:PORT   talk to this emulator (default CLOUD_TASKS_EMULATOR_HOST; unset: Google, with
                         Application Default Credentials)
  --format F             table (default), json, yaml or name
  -h, --help             show this help`;

/** What the common flags resolve to. */
export interface Target {
  /** `host:port` of the emulator, or undefined for Google. */
  emulatorHost?: string;
  project?: string;
  location?: string;
  format: Format;
}

/** Raw values of parsed flags. */
export type Flags = Record<string, string | boolean | string[] | undefined>;

/** Parses argv strictly (with positionals); an unknown flag is a usage error naming the nearest one. */
export function parseCommand(command: string, argv: string[], options: NonNullable<ParseArgsConfig['options']>): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { flags: values as Flags, positionals };
  } catch (err) {
    throw new ConfigError('ADMIN_ARGS_INVALID', [`${describeArgsError(err, Object.keys(options))} (see 'executor ${command} --help')`], `Invalid arguments for executor ${command}`);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** The target of the common flags; problems are pushed, not thrown. */
export function resolveTarget(flags: Flags, env: NodeJS.ProcessEnv, problems: string[]): Target {
  const emulatorHost = str(flags.emulator) ?? str(env.CLOUD_TASKS_EMULATOR_HOST);
  if (emulatorHost !== undefined) checkHostPort(emulatorHost, problems);
  const local = emulatorHost !== undefined;
  const project = str(flags.project) ?? str(env.GOOGLE_CLOUD_PROJECT) ?? (local ? LOCAL_PROJECT : undefined);
  const location = str(flags.location) ?? str(env.TASKS_LOCATION) ?? (local ? LOCAL_LOCATION : undefined);
  const formatText = str(flags.format) ?? 'table';
  let format: Format = 'table';
  if ((FORMATS as readonly string[]).includes(formatText)) format = formatText as Format;
  else problems.push(`--format must be one of ${FORMATS.join(', ')}, got '${formatText}'`);
  return { ...(emulatorHost !== undefined ? { emulatorHost } : {}), ...(project !== undefined ? { project } : {}), ...(location !== undefined ? { location } : {}), format };
}

/** Throws the usage error of `command` when there are problems. */
export function throwIfProblems(command: string, problems: string[]): void {
  if (problems.length > 0) throw new ConfigError('ADMIN_ARGS_INVALID', problems, `Invalid arguments for executor ${command}`);
}

/** The subcommand of `executor COMMAND VERB`: 'help' when none or help was asked for. */
export function verbOf<V extends string>(command: string, text: string | undefined, verbs: readonly V[], helpFlag: boolean): V | 'help' {
  if (helpFlag || text === undefined || text === 'help') return 'help';
  if ((verbs as readonly string[]).includes(text)) return text as V;
  const hint = nearest(text, verbs, 3);
  throw new ConfigError('ADMIN_ARGS_INVALID', [`unknown command '${text}'${hint ? ` (did you mean ${hint}?)` : ''}: one of ${verbs.join(', ')}`], `Invalid arguments for executor ${command}`);
}

/** `--limit` of a list (default 1000); problems pushed. */
export function limitOf(flags: Flags, problems: string[]): number {
  const text = typeof flags.limit === 'string' ? flags.limit : '1000';
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) problems.push(`--limit must be a positive integer, got '${text}'`);
  return limit;
}
