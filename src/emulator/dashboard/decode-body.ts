/**
 * Makes a task body readable: the executor's own codec first (binary SvcWorkRequest, its JSON
 * form, the JSON envelope), then Firebase's `{data}`, plain JSON, text, and hex for anything else.
 * The result is text for the page, which escapes it.
 */
import { isUtf8 } from 'node:buffer';
import { decodeBody } from '../../executor/codecs.js';

/** How a body was read. */
export type BodyFormat = 'empty' | 'proto-binary' | 'proto-json' | 'envelope' | 'firebase' | 'json' | 'text' | 'hex';

/** A body made readable. */
export interface BodyView {
  /** The format it was read as. */
  format: BodyFormat;
  /** A human name of the format. */
  label: string;
  /** The readable form: pretty JSON, the text, or a hex dump. */
  text: string;
  /** Why the executor would not accept it (for bodies its codec rejects). */
  executorError?: string;
  /** Size in bytes. */
  bytes: number;
}

/** Bytes of a hex dump shown before it is cut. */
const MAX_HEX_BYTES = 4096;

const LABELS: Record<BodyFormat, string> = {
  empty: 'empty',
  'proto-binary': 'SvcWorkRequest (binary protobuf)',
  'proto-json': 'SvcWorkRequest (proto3 JSON)',
  envelope: 'JSON envelope',
  firebase: "Firebase callable ({data})",
  json: 'JSON',
  text: 'text',
  hex: 'binary (hex)',
};

/** Reads a task body. Never throws. */
export function decodeTaskBody(body: Buffer | undefined): BodyView {
  const bytes = body?.length ?? 0;
  if (body === undefined || bytes === 0) return view('empty', '', bytes);
  let executorError: string | undefined;
  try {
    const decoded = decodeBody(body);
    // The binary form shows what the executor decoded; the JSON forms show the body as sent.
    const text = decoded.job.format === 'proto-binary' ? pretty(decoded.job.payload) : pretty(JSON.parse(body.toString('utf8')));
    return view(decoded.job.format, text, bytes);
  } catch (err) {
    executorError = err instanceof Error ? err.message : String(err);
  }
  const extra = { executorError };
  if (isUtf8(body)) {
    const text = body.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      const isFirebase = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length === 1 && 'data' in parsed;
      return { ...view(isFirebase ? 'firebase' : 'json', pretty(parsed), bytes), ...extra };
    } catch {
      // Not JSON: text when it is printable.
    }
    // eslint-disable-next-line no-control-regex
    if (!/[\x00-\x08\x0e-\x1f\x7f]/.test(text)) return { ...view('text', text, bytes), ...extra };
  }
  return { ...view('hex', hexDump(body), bytes), ...extra };
}

function view(format: BodyFormat, text: string, bytes: number): BodyView {
  return { format, label: LABELS[format], text, bytes };
}

function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

/** `00000000  0a 0b …  |ascii|`, 16 bytes a line, cut after {@link MAX_HEX_BYTES}. */
export function hexDump(buf: Buffer): string {
  const lines: string[] = [];
  const n = Math.min(buf.length, MAX_HEX_BYTES);
  for (let off = 0; off < n; off += 16) {
    const row = buf.subarray(off, Math.min(off + 16, n));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (buf.length > n) lines.push(`… ${buf.length - n} more bytes`);
  return lines.join('\n');
}
