import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  main: string;
};

/** Where a dist/ path of the build comes from in src/. */
const sourceOf = (dist: string): string => dist.replace(/^\.?\/?dist\//, 'src/').replace(/\.d\.ts$|\.js$/, '.ts');

describe('the public package API', () => {
  it('exports the intent errors a handler throws, with their codes', () => {
    expect(new api.RetryableError('later').code).toBe(api.RETRYABLE);
    expect(new api.PermanentError('never').code).toBe(api.PERMANENT);
    expect(new api.IgnoreError('dup').code).toBe(api.IGNORE);
    expect(new api.PermanentError('x')).toBeInstanceOf(api.CodedError);
    expect(api.EX_TEMPFAIL).toBe(75);
  });

  it('points every package entry (main, exports, bin) at a file the build produces', () => {
    const targets = [pkg.main, ...Object.values(pkg.bin)];
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (key === './package.json') continue;
      if (typeof value === 'string') targets.push(value);
      else targets.push(value.default, value.types);
    }
    for (const target of targets) {
      expect(existsSync(`${root}/${sourceOf(target)}`), `${target} ← ${sourceOf(target)}`).toBe(true);
    }
  });

  it('keeps the emulator out of the main entry, so a handler never loads it', () => {
    const main = readFileSync(`${root}/src/index.ts`, 'utf8');
    expect(main).not.toMatch(/from '\.\/emulator/);
  });
});
