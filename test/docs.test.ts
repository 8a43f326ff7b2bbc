/** The README and docs/ stay true: the two commands up front, every variable documented, no dead links. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

const ROOT = resolve(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#+ (.*)$/.exec(line);
    if (m) out.add(m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
  }
  return out;
}

describe('README.md', () => {
  const readme = read('README.md');

  it('starts with the two commands a newcomer needs', () => {
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(readme.indexOf('```bash')).toBeLessThan(200);
    expect(firstBlock).toMatch(/^npm install && npm start\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
  });

  it('documents every environment variable the executor reads', () => {
    for (const name of Object.keys(CONFIG_VARIABLES)) expect(readme, name).toContain(`\`${name}\``);
  });

  it('shows the same test command CI runs', () => {
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });
});

describe.each(pages)('%s', (page) => {
  it('links only to files and headings that exist', () => {
    const text = read(page).replace(/```[\s\S]*?```/g, '');
    for (const [, href] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(href!)) continue;
      const [path, anchor] = href!.split('#');
      const target = path ? resolve(ROOT, dirname(page), path) : join(ROOT, page);
      expect(existsSync(target), `${page} → ${href}`).toBe(true);
      if (anchor && target.endsWith('.md')) expect(anchors(readFileSync(target, 'utf8')), `${page} → ${href}`).toContain(anchor);
    }
  });
});
