/** The Dockerfile, read without Docker: it builds what package.json builds and runs what Cloud Run expects. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { all, execForm, last, parseCopy, parseDockerfile, type Stage } from './dockerfile.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const buildTsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions: { rootDir: string; outDir: string };
};
const runtime = dockerfile.stages.at(-1)!;
const build = dockerfile.stages.find((s) => s.name === 'build')!;
const runs = (stage: Stage) => all(stage, 'RUN').map((i) => i.args);

/** `.dockerignore` patterns (no negations are used in ours). */
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('builds in a stage with dev dependencies and runs the project build script', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    // --ignore-scripts: `prepare` builds, and src/ is not there yet when dependencies install.
    expect(runs(build)).toContain('npm ci --ignore-scripts --no-audit --no-fund');
    expect(runs(build)).toContain('npm run build');
    // `npm run build` compiles src/ into dist/, so src/cli.ts becomes dist/cli.js.
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(buildTsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'src/cli.ts'))).toBe(true);
  });

  it('runs on Node 24 (the current LTS) slim with production dependencies only', () => {
    expect(runtime.from).toMatch(/^node:24(\.\d+)*-(bookworm-)?slim$/);
    expect(build.from).toBe(runtime.from);
    const installs = runs(runtime).filter((r) => r.includes('npm ci'));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toContain('--omit=dev');
    // Without it `prepare` would try to build with dev tooling that is not installed.
    expect(installs[0]).toContain('--ignore-scripts');
  });

  it('copies the build output and every file read at runtime, and nothing that does not exist', () => {
    const copies = all(runtime, 'COPY').map((c) => parseCopy(c.args));
    const fromBuild = copies.filter((c) => c.from === 'build');
    expect(fromBuild).toEqual([{ from: 'build', sources: ['/app/dist'], dest: './dist' }]);
    const local = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    // The codec loads proto/work.proto relative to dist/; package.json's "files" lists what the package needs.
    expect(local).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'proto', 'local']));
    for (const source of [...local, ...all(build, 'COPY').flatMap((c) => parseCopy(c.args).sources)]) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored, `${source} is not excluded by .dockerignore`).not.toContain(source);
    }
    expect(existsSync(join(ROOT, 'proto/work.proto'))).toBe(true);
    expect(last(runtime, 'WORKDIR')?.args).toBe('/app');
    expect(last(build, 'WORKDIR')?.args).toBe('/app');
  });

  it('starts `executor serve` with node itself, not through npm, as a non-root user', () => {
    const cmd = execForm(last(runtime, 'CMD')!.args);
    expect(cmd).toEqual(['node', 'dist/cli.js', 'serve']);
    expect(pkg.bin.executor).toBe('dist/cli.js');
    const entrypoint = execForm(last(runtime, 'ENTRYPOINT')?.args ?? '[]') ?? [];
    expect(entrypoint.join(' ')).not.toMatch(/\bnpm\b|\bnpx\b/);
    // tini only forwards signals to node; it must be installed where the ENTRYPOINT says.
    if (entrypoint[0] === '/usr/bin/tini') expect(runs(runtime).some((r) => r.includes('install') && r.includes('tini'))).toBe(true);
    const user = last(runtime, 'USER')?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('listens on $PORT on all interfaces, and exposes that port', () => {
    const env = all(runtime, 'ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/\bPORT=8080\b/);
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(last(runtime, 'EXPOSE')?.args).toBe('8080');
  });

  it('keeps secrets, dependencies and build output of the host out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env', '*.tfstate*']));
  });
});
