/**
 * Every code block of README.md and docs/*.md runs as written next to `npm start`, or says why not.
 *
 * The convention: each fenced block has a mark on the line above it (an HTML comment, invisible on
 * GitHub), and a block without one fails this file.
 *
 *   <!-- snippet: run -->          run next to the local stack; must exit 0 (shell blocks through
 *                                  bash with `set -eo pipefail` and curl failing on HTTP errors;
 *                                  ts/js blocks as an ES module with tsx, from the repository root)
 *   <!-- snippet: serve [URL] -->  a server: started in the background, must answer URL (default
 *                                  http://127.0.0.1:8080/health) with 200; stays up for the page's
 *                                  later blocks, stopped with SIGTERM at the next `serve` or the
 *                                  page's end
 *   <!-- snippet: text -->         not a command: sample output, a diagram, a format, a file's contents
 *   <!-- snippet: skip REASON -->  a command or code not run here, and why (needs Google Cloud,
 *                                  Docker, a placeholder of yours, takes minutes, …)
 *
 * The blocks of one page run in order, in one "terminal": what a shell block exports reaches the
 * page's later blocks. The stack is `executor dev`'s (`startStack`, no demo batch) on its default
 * ports, inside a private network namespace (`unshare -rn`): 127.0.0.1:8123, :8081, :8082, :8090 and
 * :8080 are free there whatever runs on the machine, parallel test files cannot collide with it, and
 * no snippet can reach Google (there is no route off the machine). `node dist/cli.js` runs the
 * source (src/cli.ts through tsx): no build needed. Without user namespaces (some desktops) the
 * blocks are skipped with the reason, except in CI (`CI` set), where that fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger, SnippetResult } from './helpers/doc-snippets-runner.js';
import { snippetsOf } from './helpers/doc-snippets.js';

const ROOT = resolve(import.meta.dirname, '..');
const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const all = pages.flatMap((page) => snippetsOf(ROOT, page));
const runnable = all.filter((s) => s.kind === 'run' || s.kind === 'serve');
const where = (s: { file: string; line: number }): string => `${s.file}:${s.line}`;

/** Longest the whole run may take (every block has its own, shorter limit in the runner). */
const RUN_ALL_TIMEOUT_MS = 180_000;

describe('code blocks in README.md and docs/', () => {
  it('each carries a mark: <!-- snippet: run | serve | text | skip REASON --> on the line above', () => {
    const problems = all.flatMap((s) =>
      s.markError !== undefined ? [`${where(s)}: ${s.markError}`] : s.kind === undefined ? [`${where(s)}: unmarked \`\`\`${s.lang} block — put <!-- snippet: run --> (or serve, text, skip WHY) above it`] : [],
    );
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('runnable ones are shell or ts/js', () => {
    const odd = runnable.filter((s) => !/^(sh|bash|ts|js|mjs|mts)$/.test(s.lang)).map((s) => `${where(s)}: \`\`\`${s.lang}`);
    expect(odd, odd.join('\n')).toEqual([]);
  });
});

/** Whether this machine lets us make a private network namespace with loopback up. */
function namespaces(): boolean {
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}
const canIsolate = namespaces();
const NO_NAMESPACE = 'needs `unshare -rn` (user and network namespaces) and `ip` to run the blocks in a private network';

describe.runIf(!canIsolate && process.env.CI)('code blocks in CI', () => {
  it('can run: the machine allows a private network namespace', () => {
    expect.fail(NO_NAMESPACE);
  });
});

describe.skipIf(!canIsolate)(`the runnable blocks, next to a started stack${canIsolate ? '' : ` (skipped: ${NO_NAMESPACE})`}`, () => {
  const results = new Map<string, SnippetResult>();
  let ledger: Ledger | undefined;
  let runnerFailure = '';
  const dir = mkdtempSync(join(tmpdir(), 'docs-snippets-spec-'));

  beforeAll(async () => {
    const spec = join(dir, 'spec.json');
    const out = join(dir, 'results.json');
    writeFileSync(spec, JSON.stringify({ root: ROOT, snippets: runnable }));
    const runner = join(ROOT, 'test/helpers/doc-snippets-runner.ts');
    const child = spawn('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', runner, spec, out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_ALL_TIMEOUT_MS - 5000);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    try {
      const written = JSON.parse(readFileSync(out, 'utf8')) as { results: SnippetResult[]; ledger: Ledger };
      for (const r of written.results) results.set(where(r), r);
      ledger = written.ledger;
    } catch {
      runnerFailure = `the snippet runner exited with ${code} and no results:\n${output.slice(-4000)}`;
    }
  }, RUN_ALL_TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(runnable.map((s) => [`${where(s)} (${s.kind} ${s.lang})`, s] as const))('%s works as written', (_name, s) => {
    const r = results.get(where(s));
    if (r === undefined) expect.fail(runnerFailure || `${where(s)}: not run (an earlier failure stopped the runner?)`);
    expect(r.ok, `${where(s)}: ${r.error}\n--- its output ---\n${r.output}`).toBe(true);
  });

  it('leave every task they created delivered and accepted: nothing dropped, dead-lettered or refused', () => {
    if (ledger === undefined) expect.fail(runnerFailure);
    expect(ledger.problems, ledger.problems.join('\n')).toEqual([]);
  });
});
