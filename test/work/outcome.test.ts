import { describe, expect, it } from 'vitest';
import { HeadCollector, TailCollector } from '../../src/work/bounded.js';
import { IgnoreError, PermanentError, RetryableError } from '../../src/work/errors.js';
import { boundResult, outcomeFromThrown, resultFromOutput, truncateUtf8 } from '../../src/work/outcome.js';

describe('outcomeFromThrown', () => {
  it('treats an ordinary Error as retryable, reporting its class and message', () => {
    expect(outcomeFromThrown(new TypeError('boom'))).toEqual({ kind: 'retryable', error: { type: 'TypeError', message: 'boom' } });
  });

  it('treats a thrown string or other value as a retryable Error', () => {
    expect(outcomeFromThrown('nope')).toEqual({ kind: 'retryable', error: { type: 'Error', message: 'nope' } });
    expect(outcomeFromThrown(42)).toEqual({ kind: 'retryable', error: { type: 'Error', message: '42' } });
    expect(outcomeFromThrown(undefined)).toEqual({ kind: 'retryable', error: { type: 'Error', message: 'undefined' } });
  });

  it('maps the intent errors to retryable, permanent and ignore, with the declared type', () => {
    expect(outcomeFromThrown(new RetryableError('db down', { type: 'Database' }))).toEqual({
      kind: 'retryable',
      error: { type: 'Database', message: 'db down' },
    });
    expect(outcomeFromThrown(new PermanentError('bad input'))).toEqual({ kind: 'permanent', error: { type: 'Error', message: 'bad input' } });
    expect(outcomeFromThrown(new IgnoreError('duplicate'))).toEqual({ kind: 'ignore', reason: 'duplicate' });
  });

  it('reads intent from the code alone, so a handler need not share our classes', () => {
    const err = Object.assign(new Error('unknown file'), { code: 'WORK_PERMANENT', type: 'NotFound' });
    expect(outcomeFromThrown(err)).toEqual({ kind: 'permanent', error: { type: 'NotFound', message: 'unknown file' } });
    expect(outcomeFromThrown({ code: 'WORK_IGNORE', message: 'x' })).toMatchObject({ kind: 'ignore' });
  });

  it('keeps an unrelated code retryable and clips very long messages', () => {
    const out = outcomeFromThrown(Object.assign(new Error('x'.repeat(10_000)), { code: 'ECONNRESET' }));
    expect(out.kind).toBe('retryable');
    expect(out.kind === 'retryable' && out.error.message.length).toBeLessThanOrEqual(2048);
  });
});

describe('boundResult', () => {
  it('passes small results through and reports none for undefined', () => {
    expect(boundResult({ ok: true }, 100)).toEqual({ result: { ok: true }, truncated: false, unserialisable: false });
    expect(boundResult(undefined, 100).result).toBeUndefined();
  });

  it('turns a result over the cap into its JSON text cut to the cap', () => {
    const b = boundResult({ data: 'é'.repeat(1000) }, 64);
    expect(b.truncated).toBe(true);
    expect(typeof b.result).toBe('string');
    expect(Buffer.byteLength(b.result as string)).toBeLessThanOrEqual(64);
    expect(b.result as string).toMatch(/^\{"data":"é+$/);
  });

  it('drops results JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(boundResult(cyclic, 100)).toEqual({ result: undefined, truncated: false, unserialisable: true });
    expect(boundResult(10n, 100).unserialisable).toBe(true);
  });
});

describe('resultFromOutput', () => {
  it('parses complete JSON output and keeps other text, trimmed', () => {
    expect(resultFromOutput('{"a":1}\n', false)).toEqual({ a: 1 });
    expect(resultFromOutput('[1,2]', false)).toEqual([1, 2]);
    expect(resultFromOutput('42\n', false)).toBe(42);
    expect(resultFromOutput('done: 3 files\n', false)).toBe('done: 3 files');
    expect(resultFromOutput('{not json', false)).toBe('{not json');
  });

  it('reports nothing for empty output and never parses truncated output', () => {
    expect(resultFromOutput(' \n', false)).toBeUndefined();
    expect(resultFromOutput('{"a":1}', true)).toBe('{"a":1}');
  });
});

describe('byte collectors', () => {
  it('cuts UTF-8 on a character boundary', () => {
    expect(truncateUtf8(Buffer.from('aé'), 2)).toBe('a');
    expect(truncateUtf8(Buffer.from('aé'), 3)).toBe('aé');
  });

  it('keeps only the first bytes up to the cap and counts the rest', () => {
    const head = new HeadCollector(5);
    expect(head.push(Buffer.from('abc'))).toBe(true);
    expect(head.push(Buffer.from('defg'))).toBe(false);
    head.push(Buffer.from('hij'));
    expect(head.bytes().toString()).toBe('abcde');
    expect(head.total).toBe(10);
    expect(head.truncated).toBe(true);
  });

  it('keeps only the last bytes of a long stream', () => {
    const tail = new TailCollector(4);
    for (const part of ['one ', 'two ', 'three', 'XYZ']) tail.push(Buffer.from(part));
    expect(tail.text()).toBe('eXYZ');
    expect(tail.truncated).toBe(true);
    const big = new TailCollector(3);
    big.push(Buffer.from('abcdefgh'));
    expect(big.text()).toBe('fgh');
  });
});
