/**
 * Pure translations from what work produced (a thrown value, a result, captured output) into a
 * {@link RunOutcome}. Every runner funnels through here so the rules are the same for all of them.
 */
import { IGNORE, PERMANENT, RETRYABLE } from './errors.js';
import type { RunOutcome, WorkError } from './types.js';

/** Longest error message put into an outcome; notifications are not the place for whole stack dumps. */
export const MAX_ERROR_MESSAGE_CHARS = 2048;

/** Shortens `text` to at most `max` characters, marking the cut. */
export function clip(text: string, max = MAX_ERROR_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * What a thrown value means. Intent is read from `code` (see `errors.ts`); anything else — an
 * ordinary Error, a rejected string — is a retryable failure, because a bug or an outage that is
 * fixed later should not have cost the job.
 */
export function outcomeFromThrown(thrown: unknown): RunOutcome {
  const code = field(thrown, 'code');
  const message = clip(thrown instanceof Error ? thrown.message : typeof thrown === 'string' ? thrown : safeString(thrown));
  if (code === IGNORE) return { kind: 'ignore', reason: message };
  const declared = field(thrown, 'type');
  const type =
    code === RETRYABLE || code === PERMANENT
      ? typeof declared === 'string' && declared !== ''
        ? declared
        : 'Error'
      : thrown instanceof Error
        ? thrown.name || 'Error'
        : 'Error';
  const error: WorkError = { type, message };
  return code === PERMANENT ? { kind: 'permanent', error } : { kind: 'retryable', error };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unprintable thrown value';
  }
}

/** A result after {@link boundResult}: the value to report, and whether it had to be cut. */
export interface BoundedResult {
  /** The result to put into the outcome (undefined: none). */
  result: unknown;
  /** True when the serialised result exceeded the cap and `result` is its truncated JSON text. */
  truncated: boolean;
  /** True when the result could not be serialised as JSON and was dropped. */
  unserialisable: boolean;
}

/**
 * Keeps a handler's result within `maxBytes` of JSON, because it travels on in a notification task
 * (Cloud Tasks bodies are capped at 1 MB, and an oversized one would block the handoff forever).
 * Over the cap the result becomes its serialised text cut to the cap; values JSON cannot represent
 * (BigInt, cycles) are dropped — the work itself succeeded either way.
 */
export function boundResult(value: unknown, maxBytes: number): BoundedResult {
  if (value === undefined) return { result: undefined, truncated: false, unserialisable: false };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return { result: undefined, truncated: false, unserialisable: true };
  }
  // Functions and symbols serialise to undefined: nothing to report.
  if (text === undefined) return { result: undefined, truncated: false, unserialisable: true };
  // Cheap check first: UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) {
    return { result: value, truncated: false, unserialisable: false };
  }
  return { result: truncateUtf8(Buffer.from(text), maxBytes), truncated: true, unserialisable: false };
}

/** Decodes at most `maxBytes` of `bytes` as UTF-8 without splitting a character. */
export function truncateUtf8(bytes: Buffer, maxBytes: number): string {
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * Turns captured output into a result: parsed JSON when the (complete) text is JSON, the text
 * itself otherwise, nothing when it is empty. Truncated output is never parsed — half a JSON
 * document is text.
 */
export function resultFromOutput(text: string, truncated: boolean): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (!truncated && (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"') || /^(-?\d|true$|false$|null$)/.test(trimmed))) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      // Not JSON after all: report it as text.
    }
  }
  return truncated ? text : trimmed;
}
