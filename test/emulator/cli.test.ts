import { describe, expect, it } from 'vitest';
import { parseEmulatorArgs } from '../../src/emulator/cli.js';
import { ConfigError } from '../../src/errors.js';

function problems(argv: string[]): readonly string[] {
  try {
    parseEmulatorArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('executor emulator flags', () => {
  it('defaults to port 8123 and passes every option through', () => {
    expect(parseEmulatorArgs([])).toMatchObject({ port: 8123, logLevel: 'info', help: false });
    expect(
      parseEmulatorArgs([
        '--host', '0.0.0.0', '--port', '0', '--queues', 'q.yaml', '--dedup-window', '1.5',
        '--reset-names-on-purge', '--allow-queue-name-reuse', '--issuer', 'http://emulator:8123', '--log-level', 'debug',
        '--app-engine-host', 'http://localhost:8081',
      ]),
    ).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      queues: 'q.yaml',
      dedupWindowMs: 1500,
      resetNamesOnPurge: true,
      allowQueueNameReuse: true,
      appEngineHost: 'http://localhost:8081',
      issuer: 'http://emulator:8123',
      logLevel: 'debug',
    });
  });

  it('reads --throttling model|off and rejects other modes', () => {
    expect(parseEmulatorArgs(['--throttling', 'off']).throttling).toBe('off');
    expect(parseEmulatorArgs(['--throttling', 'model']).throttling).toBe('model');
    expect(parseEmulatorArgs([]).throttling).toBeUndefined();
    expect(() => parseEmulatorArgs(['--throttling', 'aimd'])).toThrow(/--throttling must be 'model' or 'off', got 'aimd'/);
  });

  it('reads --data-dir and refuses an empty one; memory only without it', () => {
    expect(parseEmulatorArgs(['--data-dir', '/tmp/emulator-state']).dataDir).toBe('/tmp/emulator-state');
    expect(parseEmulatorArgs([]).dataDir).toBeUndefined();
    expect(() => parseEmulatorArgs(['--data-dir', ''])).toThrow(/--data-dir needs a directory/);
  });

  it('lists every bad flag at once, saying what is expected', () => {
    expect(problems(['--port', 'abc', '--dedup-window=-1', '--issuer', 'nope', '--app-engine-host', 'localhost:8080', '--log-level', 'loud'])).toEqual([
      "--port must be an integer between 0 and 65535, got 'abc'",
      "--dedup-window must be a non-negative number of seconds, got '-1'",
      "--issuer must be an absolute URL, got 'nope'",
      "--app-engine-host must be an http(s) origin like http://localhost:8080, got 'localhost:8080'",
      "--log-level must be one of trace, debug, info, warn, error, silent; got 'loud'",
    ]);
    expect(problems(['--bogus'])[0]).toMatch(/bogus.*executor emulator --help/);
  });
});
