/**
 * firebase-functions and express, the executor bench's peer (a Firebase task-queue handler,
 * `onTaskDispatched`, mounted on express), installed on demand into a cache folder — never a
 * dependency of this project. Idempotent: a folder that already holds both is reused as it is.
 *
 *   npx tsx bench/_firebase-functions.ts      installs (or finds) them and prints where
 *
 * The folder is $BENCH_PEERS_DIR/functions (default ~/.cache/cte-bench-peers/functions).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What is installed when the cache holds none (firebase-admin: a peer dependency of firebase-functions). */
const PACKAGES = { express: '^5.1.0', 'firebase-admin': '^13.0.0', 'firebase-functions': '^7.0.0' } as const;

/** The folder holding node_modules/firebase-functions and node_modules/express, installing them first when missing. */
export async function ensureFirebaseFunctions(log: (line: string) => void = () => {}): Promise<string> {
  const dir = join(process.env.BENCH_PEERS_DIR ?? join(homedir(), '.cache', 'cte-bench-peers'), 'functions');
  const installed = (name: string) => existsSync(join(dir, 'node_modules', name, 'package.json'));
  if (Object.keys(PACKAGES).every(installed)) return dir;
  log(`installing ${Object.keys(PACKAGES).join(', ')} into ${dir} (once; takes a minute)`);
  await mkdir(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) {
    await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'cte-bench-peer-functions', private: true, dependencies: PACKAGES })}\n`);
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const missing = Object.entries(PACKAGES).map(([name, range]) => `${name}@${range}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(npm, ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error', ...missing], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install in ${dir} exited with ${code}: check the network and npm's registry`))));
  });
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureFirebaseFunctions((l) => process.stdout.write(`${l}\n`)).then(
    (dir) => process.stdout.write(`firebase-functions and express: ${dir}\n`),
    (err: unknown) => {
      process.stderr.write(`bench/_firebase-functions: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
