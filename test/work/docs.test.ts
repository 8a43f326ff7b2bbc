/** docs/handlers.md stays in step with the code it documents. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EX_TEMPFAIL, IGNORE, METADATA_NAMES, PERMANENT, RETRYABLE } from '../../src/work/index.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/handlers.md'), 'utf8');

describe('docs/handlers.md', () => {
  it('names every metadata header and environment variable the runners send', () => {
    for (const [header, env] of METADATA_NAMES) {
      expect(doc).toContain(header);
      expect(doc).toContain(env);
    }
  });

  it('names the intent codes and the retry exit code', () => {
    for (const code of [RETRYABLE, PERMANENT, IGNORE]) expect(doc).toContain(code);
    expect(doc).toContain(`exits ${EX_TEMPFAIL}`);
  });
});
