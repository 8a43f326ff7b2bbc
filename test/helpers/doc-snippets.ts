/**
 * The code blocks of README.md and docs/*.md, with the mark each carries (see
 * test/docs-snippets.test.ts for the convention).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the suite does with a block. */
export type SnippetKind = 'run' | 'serve' | 'text' | 'skip';

/** One fenced code block. */
export interface Snippet {
  /** Page, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's language (`sh`, `ts`, … or '' for none). */
  readonly lang: string;
  /** The block's text, its indentation removed. */
  readonly code: string;
  /** The mark, or undefined when the block has none. */
  readonly kind: SnippetKind | undefined;
  /** For `skip`: why; for `serve`: the URL that answers once it is up. */
  readonly arg: string;
  /** Why a mark is malformed, when it is. */
  readonly markError?: string;
}

const MARK = /^<!--\s*snippet:\s*(\S+)\s*(.*?)\s*-->$/;
const KINDS = new Set<string>(['run', 'serve', 'text', 'skip']);
/** Where a `serve` block is expected to answer when its mark names no URL. */
export const SERVE_DEFAULT_URL = 'http://127.0.0.1:8080/health';

/** The blocks of one page, in order. */
export function snippetsOf(root: string, file: string): Snippet[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*).*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !(lines[j]!.trim().startsWith(fence) && lines[j]!.trim().replace(/`/g, '') === ''); j++) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    // The mark is the nearest non-blank line above the fence.
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const mark = k >= 0 ? MARK.exec(lines[k]!.trim()) : null;
    const base = { file, line: i + 1, lang, code: `${body.join('\n')}\n` };
    if (mark === null) {
      out.push({ ...base, kind: undefined, arg: '' });
    } else {
      const [, kind = '', arg = ''] = mark;
      const markError = !KINDS.has(kind)
        ? `unknown mark '${kind}' (run, serve, text or skip REASON)`
        : kind === 'skip' && arg === ''
          ? 'a skip mark needs its reason: <!-- snippet: skip WHY -->'
          : undefined;
      out.push({ ...base, kind: KINDS.has(kind) ? (kind as SnippetKind) : undefined, arg: kind === 'serve' && arg === '' ? SERVE_DEFAULT_URL : arg, ...(markError ? { markError } : {}) });
    }
    i = j;
  }
  return out;
}
