/**
 * HTML built by a tagged template that escapes every interpolated value, so a task body, a header
 * or a queue name can never become markup: only fragments made by `html` itself are inserted raw.
 */

/** A fragment of markup made by {@link html} (trusted: its interpolations were escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function part(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(part).join('');
  // Values are strings and numbers in practice; anything else is shown as JSON rather than '[object Object]'.
  return escapeHtml(typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? '');
}

/** `html\`<td>${name}</td>\``: strings are escaped, Html fragments and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1]!;
  return new Html(out);
}
