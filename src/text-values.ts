/**
 * zod schemas for values that arrive as text (environment variables, command-line flags): zod's
 * own coercion and `z.stringbool()` do the parsing; these only fix the wording, so every bad value
 * is reported as "NAME must be …, got 'value'".
 */
import { z } from 'zod';

/** `${what}, got '${input}'`: the wording of every rejected text value. */
const got = (what: string) => (issue: { input?: unknown }) => `${what}, got '${String(issue.input)}'`;

/** Decimal digits (surrounding spaces allowed) for an integer from `min` to `max`. */
export function integerText(min: number, max: number, what: string) {
  return z
    .string({ error: got(what) })
    .trim()
    .regex(/^\d+$/, { error: got(what) })
    .pipe(z.coerce.number<string>().int({ error: got(what) }).min(min, { error: got(what) }).max(max, { error: got(what) }));
}

/** A finite number from `min` to `max`. */
export function numberText(min: number, max: number, what: string) {
  return z
    .string({ error: got(what) })
    .trim()
    .min(1, { error: got(what) })
    .pipe(z.coerce.number<string>({ error: got(what) }).min(min, { error: got(what) }).max(max, { error: got(what) }));
}

/** true/1/yes or false/0/no, in any case. */
export function booleanText(what: string) {
  return z
    .string()
    .trim()
    .pipe(z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'], case: 'insensitive', error: got(what) }));
}
