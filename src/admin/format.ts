/**
 * Output of the admin commands: gcloud-like tables for people, JSON or YAML of the API's own
 * resources for scripts, and `name` (one resource name per line) for shell loops. Pure.
 */
import { stringify } from 'yaml';

/** The output formats. */
export const FORMATS = ['table', 'json', 'yaml', 'name'] as const;
export type Format = (typeof FORMATS)[number];

/** A table column: its heading and how a row shows in it. */
export interface Column<T> {
  heading: string;
  value: (row: T) => string;
}

/** Rows under upper-case headings, columns padded to their widest cell (two spaces between). */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map((c) => c.heading), ...rows.map((r) => columns.map((c) => c.value(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Resources as plain data: protobuf Longs and buffers become numbers and base64, unset fields go. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    // protobufjs Long: {low, high, unsigned}.
    const long = value as { toNumber?: unknown };
    if ('low' in value && 'high' in value && typeof long.toNumber === 'function') return (long as { toNumber(): number }).toNumber();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = plain(v);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return value;
}

/** A list of resources in `format` (`table` through `columns`). */
export function renderList<T extends { name?: string | null }>(format: Format, columns: readonly Column<T>[], rows: readonly T[], empty: string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plain(rows) ?? [], null, 2)}\n`;
    case 'yaml':
      return rows.length === 0 ? '[]\n' : stringify(plain(rows));
    case 'name':
      return rows.map((r) => `${r.name ?? ''}\n`).join('');
    case 'table':
      return rows.length === 0 ? `${empty}\n` : renderTable(columns, rows);
  }
}

/** One resource in `format` (`table` as `key: value` lines, like gcloud's describe). */
export function renderOne(format: Format, resource: { name?: string | null }): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plain(resource) ?? {}, null, 2)}\n`;
    case 'name':
      return `${resource.name ?? ''}\n`;
    case 'yaml':
    case 'table':
      return stringify(plain(resource) ?? {});
  }
}
