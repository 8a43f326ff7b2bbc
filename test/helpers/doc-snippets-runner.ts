/**
 * Runs the docs' `run` and `serve` blocks next to a started local stack, as a reader would in a
 * second terminal. test/docs-snippets.test.ts starts it inside a private network namespace, so the
 * stack takes its fixed default ports (8123, 8081, 8082, 8090) and the blocks run exactly as
 * written, without colliding with anything else on the machine and without a route off it.
 *
 * Usage: node --import tsx doc-snippets-runner.ts SPEC.json RESULTS.json
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { parseDevArgs, type DevOptions } from '../../src/local/dev-args.js';
import { startStack, type Stack } from '../../src/local/stack.js';
import type { Snippet } from './doc-snippets.js';

/** What one block did. */
export interface SnippetResult {
  file: string;
  line: number;
  ok: boolean;
  /** Why it failed. */
  error?: string;
  /** Its stdout and stderr, the tail. */
  output: string;
  ms: number;
}

/** Longest a `run` block may take. */
const RUN_TIMEOUT_MS = 60_000;
/** Longest a `serve` block may take to answer. */
const SERVE_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL = 4000;

const [specPath, resultsPath] = process.argv.slice(2) as [string, string];
const { root, snippets } = JSON.parse(readFileSync(specPath, 'utf8')) as { root: string; snippets: Snippet[] };

// A checkout of our own, so blocks that write files (`cat > job.json`) leave the repository alone:
// the repository's folders linked in, and a dist/cli.js that runs src/cli.ts — the source under
// test, with no build to wait for or to race other test files writing dist/.
const work = mkdtempSync(join(tmpdir(), 'docs-snippets-'));
for (const name of ['node_modules', 'src', 'local', 'examples', 'proto', 'package.json', 'tsconfig.json']) symlinkSync(join(root, name), join(work, name));
mkdirSync(join(work, 'dist'));
writeFileSync(
  join(work, 'dist', 'cli.js'),
  `import { register } from 'tsx/esm/api';\nregister();\nawait import(${JSON.stringify(pathToFileURL(join(root, 'src', 'cli.ts')).href)});\n`,
);

/** A reader's terminal: no Google credentials, no metadata server, nothing of ours inherited. */
const freshEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? work,
  LANG: 'C.UTF-8',
  METADATA_SERVER_DETECTION: 'none',
  GOOGLE_APPLICATION_CREDENTIALS: join(work, 'no-credentials.json'),
});

/** Prepended to shell blocks: stop at the first failing command; curl fails on an HTTP error. */
const SHELL_PRELUDE = 'set -eo pipefail\ncurl() { command curl --fail-with-body --max-time 10 "$@"; }\n';
/** Variables of the shell itself, not carried from one block to the next. */
const SHELL_OWN = new Set(['_', 'SHLVL', 'PWD', 'OLDPWD', 'SNIPPET_ENV_OUT']);

interface Exit {
  code: number | null;
  output: string;
}

const tail = (s: string): string => (s.length > OUTPUT_TAIL ? `…${s.slice(-OUTPUT_TAIL)}` : s);

/** Every block process still running, so a SIGTERM to this runner stops them all. */
const live = new Set<ChildProcess>();

/** Starts a block's process in its own process group (so a timeout stops all it started). */
function start(snippet: Snippet, env: Record<string, string>, extra: Record<string, string> = {}): { child: ChildProcess; done: Promise<Exit>; output: () => string } {
  const name = `${snippet.file.replace(/\W/g, '_')}-${snippet.line}`;
  const shell = !/^(ts|js|mjs|mts|typescript|javascript)$/.test(snippet.lang);
  const file = join(work, shell ? `${name}.sh` : `${name}.mts`);
  writeFileSync(file, shell ? `${SHELL_PRELUDE}${snippet.code}\n${snippet.kind === 'run' ? 'env -0 > "$SNIPPET_ENV_OUT"\n' : ''}` : snippet.code);
  const [command, args] = shell ? ['bash', [file]] : [process.execPath, ['--import', 'tsx', file]];
  const child = spawn(command, args, { cwd: work, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  child.on('close', () => live.delete(child));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<Exit>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
  return { child, done, output: () => output };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs a `run` block to its end; returns the variables it exported. */
async function run(snippet: Snippet, env: Record<string, string>): Promise<{ result: Omit<SnippetResult, 'file' | 'line' | 'ms'>; env: Record<string, string> }> {
  const envOut = join(work, `env-${snippet.line}`);
  const p = start(snippet, env, { SNIPPET_ENV_OUT: envOut });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(p.child, 'SIGKILL');
  }, RUN_TIMEOUT_MS);
  const exit = await p.done;
  clearTimeout(timer);
  // Whatever it left running in the background goes with it.
  killGroup(p.child, 'SIGKILL');
  if (timedOut) return { result: { ok: false, error: `did not finish within ${RUN_TIMEOUT_MS / 1000} s`, output: tail(exit.output) }, env };
  if (exit.code !== 0) return { result: { ok: false, error: `exited with status ${exit.code}`, output: tail(exit.output) }, env };
  const next: Record<string, string> = {};
  try {
    for (const entry of readFileSync(envOut, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0 && !SHELL_OWN.has(entry.slice(0, eq))) next[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } catch {
    return { result: { ok: true, output: tail(exit.output) }, env }; // not a shell block: nothing exported
  }
  return { result: { ok: true, output: tail(exit.output) }, env: next };
}

/** Starts a `serve` block and waits until its URL answers 200. */
async function serve(snippet: Snippet, env: Record<string, string>): Promise<{ result: Omit<SnippetResult, 'file' | 'line' | 'ms'>; child?: ChildProcess }> {
  const p = start(snippet, env);
  let exited: Exit | undefined;
  void p.done.then((e) => (exited = e));
  const deadline = Date.now() + SERVE_TIMEOUT_MS;
  while (Date.now() < deadline && exited === undefined) {
    try {
      const res = await fetch(snippet.arg, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return { result: { ok: true, output: tail(p.output()) }, child: p.child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  killGroup(p.child, 'SIGKILL');
  const error = exited !== undefined ? `exited with status ${exited.code} before ${snippet.arg} answered` : `${snippet.arg} did not answer 200 within ${SERVE_TIMEOUT_MS / 1000} s`;
  return { result: { ok: false, error, output: tail(p.output()) } };
}

/** Stops a `serve` block's processes: SIGTERM, as Ctrl-C would, then SIGKILL. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((r) => child.once('close', r));
  killGroup(child, 'SIGTERM');
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  killGroup(child, 'SIGKILL');
}

/**
 * What the blocks left behind, once the stack is idle: a block whose task could not be delivered
 * (wrong target, refused token, undecodable body) exits 0 all the same, and shows only here.
 */
export interface Ledger {
  /** Problems, one line each; empty when every task reached its target and was accepted. */
  problems: string[];
}

const IDLE_TIMEOUT_MS = 30_000;

async function ledgerOf(stack: Stack): Promise<Ledger> {
  const problems: string[] = [];
  try {
    await stack.emulator.waitForIdle({ timeoutMs: IDLE_TIMEOUT_MS });
  } catch (err) {
    problems.push(`the stack did not become idle within ${IDLE_TIMEOUT_MS / 1000} s (a task retried without end?): ${String(err)}`);
  }
  for (const d of stack.emulator.droppedTasks()) problems.push(`dropped after its retry limits: ${JSON.stringify(d)}`);
  const deadLetters = stack.incomingQueue.replace(/[^/]+$/, 'dead-letter');
  const listed = (await (await fetch(`${stack.emulator.url}/v2/${deadLetters}/tasks`)).json()) as { tasks?: { name: string }[] };
  for (const t of listed.tasks ?? []) problems.push(`dead-lettered (an undecodable body): ${t.name}`);
  for (const tier of stack.tiers) {
    const c = await tier.counters();
    if (c.authRejected > 0) problems.push(`tier ${tier.tier} refused ${c.authRejected} push(es) on authentication`);
  }
  return { problems };
}

const results: SnippetResult[] = [];
let ledger: Ledger = { problems: ['not checked: the run stopped early'] };
let serving: ChildProcess | undefined;
process.on('SIGTERM', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});

const stack = await startStack(parseDevArgs(['--jobs', '0']) as DevOptions, pino({ level: 'silent' }));
try {
  let file = '';
  let env = freshEnv();
  for (const snippet of snippets) {
    if (snippet.file !== file) {
      // Each page is read in a terminal of its own.
      await stop(serving);
      serving = undefined;
      file = snippet.file;
      env = freshEnv();
    }
    const started = Date.now();
    let result: Omit<SnippetResult, 'file' | 'line' | 'ms'>;
    if (snippet.kind === 'serve') {
      await stop(serving);
      const s = await serve(snippet, env);
      serving = s.child;
      result = s.result;
    } else {
      const r = await run(snippet, env);
      env = r.env;
      result = r.result;
    }
    results.push({ file: snippet.file, line: snippet.line, ms: Date.now() - started, ...result });
  }
  await stop(serving);
  ledger = await ledgerOf(stack);
} finally {
  await stop(serving);
  await stack.close();
  writeFileSync(resultsPath, JSON.stringify({ results, ledger }));
  rmSync(work, { recursive: true, force: true });
}
