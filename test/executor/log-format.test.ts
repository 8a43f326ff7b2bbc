/**
 * The process logger's format (src/log.ts) as the push path relies on it: Cloud Logging fields,
 * exact-path redaction of credentials, and a timestamp that stays correct while it is cached.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { chooseLogFormat, isoTimeCached, jsonString, makeLineWriter, makeLogger } from '../../src/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = makeLogger({ destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('makeLogger', () => {
  it('writes severity, message and an ISO time', () => {
    const { logger, lines } = capture();
    logger.warn({ queue: 'q' }, 'hello');
    expect(lines[0]).toMatchObject({ severity: 'WARNING', message: 'hello', queue: 'q' });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
  });

  it('redacts authorization at the top level, in headers and in an error\'s request config', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('boom'), { config: { headers: { authorization: 'Bearer c' } } });
    logger.error({ authorization: 'Bearer a', headers: { authorization: 'Bearer b' }, err }, 'failed');
    const raw = JSON.stringify(lines[0]);
    expect(raw).not.toContain('Bearer');
    expect(lines[0]).toMatchObject({ authorization: '[redacted]', headers: { authorization: '[redacted]' }, err: { message: 'boom' } });
  });
});

describe('chooseLogFormat', () => {
  it('is pretty on a terminal outside Cloud Run and JSON in containers, pipes and on Cloud Run', () => {
    expect(chooseLogFormat(undefined, { isTTY: true, onCloudRun: false })).toBe('pretty');
    expect(chooseLogFormat(undefined, { isTTY: false, onCloudRun: false })).toBe('json');
    expect(chooseLogFormat(undefined, { isTTY: true, onCloudRun: true })).toBe('json');
    expect(chooseLogFormat(undefined, { isTTY: false, onCloudRun: true })).toBe('json');
  });

  it('lets LOG_FORMAT override either way', () => {
    expect(chooseLogFormat('json', { isTTY: true, onCloudRun: false })).toBe('json');
    expect(chooseLogFormat('pretty', { isTTY: false, onCloudRun: true })).toBe('pretty');
  });
});

describe('makeLogger in pretty format', () => {
  function capturePretty() {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    return { logger: makeLogger({ format: 'pretty', destination, level: 'debug' }), text: () => text };
  }

  it('names each level the way a person reads it, one line per entry, with fields inline', () => {
    const { logger, text } = capturePretty();
    logger.info({ queue: 'q' }, 'hello');
    logger.warn('careful');
    logger.error('broken');
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello \{"queue":"q"\}$/);
    expect(lines[1]).toMatch(/ WARN: careful$/);
    expect(lines[2]).toMatch(/ ERROR: broken$/);
    expect(text()).not.toContain('severity');
    expect(text()).not.toContain('USERLVL');
  });

  it('still redacts credentials', () => {
    const { logger, text } = capturePretty();
    logger.info({ headers: { authorization: 'Bearer x' } }, 'push');
    expect(text()).not.toContain('Bearer');
    expect(text()).toContain('[redacted]');
  });
});

describe('isoTimeCached', () => {
  it('matches the clock, including when it moves by a millisecond or backwards', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    for (const ms of [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2026, 0, 1) + 1, Date.UTC(2025, 11, 31, 23, 59, 59, 999)]) {
      vi.setSystemTime(ms);
      expect(isoTimeCached()).toBe(`,"time":"${new Date(ms).toISOString()}"`);
    }
  });
});

describe('makeLineWriter', () => {
  /** Lines written to one array, raw. */
  function rawCapture(options: { format?: 'json' | 'pretty' } = {}) {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = makeLogger({ destination, ...(options.format !== undefined ? { format: options.format } : {}) });
    return { logger, lines };
  }

  const fields = { tier: 1, queue: 'incoming', outcome: 'success', status: 200, sampled: true, errorMessage: 'a "quoted" \\ path\nand a newline, é and 😀' };
  const serialised = `,"tier":1,"queue":"incoming","outcome":"success","status":200,"sampled":true,"errorMessage":${jsonString(fields.errorMessage)}`;

  it('writes byte for byte the line pino writes for the same fields, at each level, for the root logger and a child', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 4, 3, 0, 0, 123));
    const { logger, lines } = rawCapture();
    const child = logger.child({ component: 'tier-1' });
    for (const l of [logger, child]) {
      const write = makeLineWriter(l, 'delivery')!;
      for (const level of ['info', 'warn', 'error'] as const) {
        l[level](fields, 'delivery');
        write(level, serialised);
      }
    }
    expect(lines).toHaveLength(12);
    for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(lines[i]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ severity: 'INFO', message: 'delivery', errorMessage: fields.errorMessage });
    expect(JSON.parse(lines[6]!)).toMatchObject({ component: 'tier-1' });
  });

  it('escapes strings as pino does, including long ones and control characters', () => {
    for (const s of ['plain', 'say "hi"', 'back\\slash', 'tab\there', 'x'.repeat(150), '"'.repeat(101), '']) {
      expect(JSON.parse(jsonString(s))).toBe(s);
    }
    expect(jsonString('a"b')).toBe(JSON.stringify('a"b'));
  });

  it('declines a logger whose lines pino would shape differently: a mixin, a log formatter, a stream-write hook, a multistream', () => {
    const sink = { write: () => undefined };
    expect(makeLineWriter(pino({ mixin: () => ({ a: 1 }) }, sink), 'm')).toBeUndefined();
    expect(makeLineWriter(pino({ formatters: { log: (o) => o } }, sink), 'm')).toBeUndefined();
    expect(makeLineWriter(pino({ hooks: { streamWrite: (s) => s } }, sink), 'm')).toBeUndefined();
    expect(makeLineWriter(pino({}, pino.multistream([{ stream: sink }])), 'm')).toBeUndefined();
    expect(makeLineWriter(pino({}, sink), 'm')).toBeDefined();
  });
});
