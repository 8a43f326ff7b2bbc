/**
 * firebase-tools, the emulator bench's peer, installed on demand into a cache folder — never a
 * dependency of this project (it brings ~700 packages). Idempotent: an installed copy is reused.
 *
 *   npx tsx bench/_firebase-tools.ts      installs (or finds) it and prints where
 *
 * The folder is $BENCH_PEERS_DIR/firebase-tools (default ~/.cache/cte-bench-peers/firebase-tools).
 * Its Cloud Tasks emulator is plain Node (express + fetch): no Java is needed for it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The version range installed when the cache holds none. */
const FIREBASE_TOOLS_RANGE = '^15.34.2';

/** The cache folder of the bench's peers. */
export function peersDir(): string {
  return process.env.BENCH_PEERS_DIR ?? join(homedir(), '.cache', 'cte-bench-peers');
}

/** The folder holding node_modules/firebase-tools, installing it first when it is missing. */
export async function ensureFirebaseTools(log: (line: string) => void = () => {}): Promise<string> {
  const dir = join(peersDir(), 'firebase-tools');
  if (existsSync(join(dir, 'node_modules', 'firebase-tools', 'lib', 'emulator', 'tasksEmulator.js'))) return dir;
  log(`installing firebase-tools ${FIREBASE_TOOLS_RANGE} into ${dir} (once; takes a minute or two)`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ private: true, dependencies: { 'firebase-tools': FIREBASE_TOOLS_RANGE } })}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(npm, ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install firebase-tools in ${dir} exited with ${code}: check the network and npm's registry`))));
  });
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureFirebaseTools((l) => process.stdout.write(`${l}\n`)).then(
    (dir) => process.stdout.write(`firebase-tools: ${dir}\n`),
    (err: unknown) => {
      process.stderr.write(`bench/_firebase-tools: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
