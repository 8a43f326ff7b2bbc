/** README's Layout section is the one map of src/: every folder and top-level module is on it. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const map = /### Layout\n[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

function folders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [join(dir, e.name), ...folders(join(dir, e.name))]);
}

describe("README's Layout", () => {
  it('is there', () => {
    expect(map).toMatch(/^src\/$/m);
  });

  it.each(folders(SRC).map((d) => relative(SRC, d)))('names src/%s', (folder) => {
    // Top-level folders stand at the start of a line; nested ones (api/, engine/) in their parent's row.
    const name = folder.split('/').pop()!;
    expect(map).toMatch(folder.includes('/') ? new RegExp(`\\b${name}/`) : new RegExp(`^  ${name}/`, 'm'));
  });

  it.each(readdirSync(SRC).filter((f) => f.endsWith('.ts')))('names src/%s', (file) => {
    expect(map).toMatch(new RegExp(`^  ${file.replace('.', '\\.')}\\s`, 'm'));
  });
});
