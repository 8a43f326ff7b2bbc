import { invalidArgument } from '../status.js';

/**
 * Opaque page tokens: the position after which the next page starts, bound to the list it came
 * from so a token cannot be replayed against another parent.
 */
export function encodePageToken(parent: string, after: string | number): string {
  return Buffer.from(JSON.stringify({ p: parent, a: after })).toString('base64url');
}

/** Decodes a page token made by {@link encodePageToken}; INVALID_ARGUMENT if it is not one for `parent`. */
export function decodePageToken(token: string, parent: string): string | number {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown; a?: unknown };
    if (v.p === parent && (typeof v.a === 'string' || typeof v.a === 'number')) return v.a;
  } catch {
    // fall through
  }
  throw invalidArgument(`Invalid page_token '${token}': pass the next_page_token of the previous response for the same parent.`);
}

/** The effective page size: 0 means the maximum; negative is an error. */
export function pageSize(requested: number | undefined, max: number): number {
  const n = requested ?? 0;
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`page_size must be a non-negative integer, got ${n}.`);
  return n === 0 ? max : Math.min(n, max);
}
