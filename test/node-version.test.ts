/** The supported Node.js: one number in package.json, the CLI's start check, the image and the types. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSupportedNode, MIN_NODE } from '../src/node-version.js';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const major = (v: string) => Number(/(\d+)/.exec(v)?.[1]);

/** Runs the CLI as if on Node `version`: process.version(s) are overridden before the CLI loads. */
function cliOn(version: string) {
  const fake = `Object.defineProperty(process.versions,"node",{value:"${version}"});Object.defineProperty(process,"version",{value:"v${version}"})`;
  return spawnSync(process.execPath, ['--import', `data:text/javascript,${fake}`, '--import', 'tsx', 'src/cli.ts', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('supported Node.js', () => {
  it('compares versions numerically against the minimum', () => {
    expect(isSupportedNode(`v${MIN_NODE}`)).toBe(true);
    expect(isSupportedNode('22.100.0')).toBe(true);
    expect(isSupportedNode('24.0.0')).toBe(true);
    expect(isSupportedNode('22.18.9')).toBe(false);
    expect(isSupportedNode('v20.20.2')).toBe(false);
    expect(isSupportedNode('9.99.99')).toBe(false);
  });

  it('states the same minimum in package.json engines', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE}`);
  });

  it('types against the Node the image runs', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const imageMajor = major(/^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1] ?? '');
    expect(imageMajor).toBeGreaterThanOrEqual(major(MIN_NODE));
    expect(major(pkg.devDependencies['@types/node']!)).toBe(imageMajor);
  });

  it('refuses an older Node with one line on stderr and exit code 1, before loading anything', () => {
    const r = cliOn('20.19.0');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `executor: needs Node.js ${MIN_NODE} or newer, this is v20.19.0. Install Node.js 24 (the current LTS) or 22, e.g. from https://nodejs.org or with nvm/fnm.\n`,
    );
  });

  it('starts normally on a supported Node', () => {
    const r = cliOn(MIN_NODE);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: executor \[options\] \[command\]/);
  });
});
