/**
 * Command-line parsing shared by `executor dev` and `executor submit`: node:util parseArgs for the
 * shape, zod for the values, and one ConfigError naming every bad flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ConfigError, formatIssues } from '../errors.js';
import { describeArgsError } from '../suggest.js';
import { integerText, numberText } from '../text-values.js';

/** Raw flag values as parseArgs returns them. */
export type RawFlags = Record<string, string | boolean | string[] | undefined>;

/** Runs parseArgs in strict mode; unknown flags or missing values become a ConfigError. */
export function parseFlags(command: string, argv: string[], options: ParseArgsConfig['options']): RawFlags {
  try {
    const { values } = parseArgs({ args: argv, options: options ?? {}, strict: true, allowPositionals: false });
    return values as RawFlags;
  } catch (err) {
    throw new ConfigError('CLI_ARGS_INVALID', [`${describeArgsError(err, Object.keys(options ?? {}))} (see 'executor ${command} --help')`], `Invalid arguments for executor ${command}`);
  }
}

/** A flag given as a string, parsed as an integer within bounds. */
export const intFlag = (flag: string, min: number, max: number) => integerText(min, max, `--${flag} must be an integer from ${min} to ${max}`).optional();

/** A flag given as a string, parsed as a number within bounds. */
export const numberFlag = (flag: string, min: number, max: number) => numberText(min, max, `--${flag} must be a number from ${min} to ${max}`).optional();

/** A flag that must be an http(s) URL. */
export const urlFlag = (flag: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || (/^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v)), { message: `--${flag} must be an http(s) URL` });

/** Validates flags with a zod schema; every issue becomes one line of a ConfigError. */
export function validateFlags<T extends z.ZodType>(command: string, schema: T, flags: RawFlags): z.output<T> {
  const result = schema.safeParse(flags);
  if (!result.success) {
    const problems = formatIssues(result.error.issues, (path) => (path.length > 0 ? `--${path.map(String).join('.')}` : ''));
    throw new ConfigError('CLI_ARGS_INVALID', problems, `Invalid arguments for executor ${command}`);
  }
  return result.data;
}
