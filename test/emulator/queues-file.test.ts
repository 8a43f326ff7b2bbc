import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { durationToMs, loadQueuesFile } from '../../src/emulator/queues-file.js';

const dir = mkdtempSync(join(tmpdir(), 'queues-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(source: unknown): string[] {
  try {
    loadQueuesFile(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.code).toBe('EMULATOR_QUEUES_FILE_INVALID');
      return [...err.problems];
    }
    throw err;
  }
  return [];
}

describe('queues file', () => {
  it('resolves short names with the default project and location, and full names as given', () => {
    const resolved = loadQueuesFile({
      queues: [{ name: 'incoming' }, { name: 'projects/other/locations/europe-west1/queues/slow', state: 'PAUSED' }],
    });
    expect(resolved.map((q) => q.input.name)).toEqual([
      'projects/local-project/locations/us-central1/queues/incoming',
      'projects/other/locations/europe-west1/queues/slow',
    ]);
    expect(resolved[1]).toMatchObject({ parent: 'projects/other/locations/europe-west1', input: { state: 'PAUSED' } });
  });

  it('reads YAML from a file, with durations as strings or numbers of seconds', () => {
    const file = join(dir, 'queues.yaml');
    writeFileSync(
      file,
      [
        'project: demo',
        'location: europe-west1',
        'queues:',
        '  - name: incoming',
        '    rateLimits: { maxDispatchesPerSecond: 50, maxConcurrentDispatches: 10 }',
        '    retryConfig:',
        '      maxAttempts: -1',
        '      minBackoff: 0.1s',
        '      maxBackoff: 2',
        '      maxDoublings: 0',
        '      maxRetryDuration: 1h',
      ].join('\n'),
    );
    const [q] = loadQueuesFile(file);
    expect(q!.input).toEqual({
      name: 'projects/demo/locations/europe-west1/queues/incoming',
      state: 'RUNNING',
      rateLimits: { maxDispatchesPerSecond: 50, maxConcurrentDispatches: 10 },
      retryConfig: { maxAttempts: -1, minBackoffMs: 100, maxBackoffMs: 2000, maxDoublings: 0, maxRetryDurationMs: 3_600_000 },
    });
  });

  it('names the queue and the field of every problem, all at once', () => {
    const problems = problemsOf({
      queues: [
        { name: 'ok' },
        { name: 'fast', rateLimits: { maxDispatchesPerSecond: 501 } },
        { name: 'slow', retryConfig: { minBackoff: 'soon', maxAttempts: 0 } },
        { name: 'typo', retryConfg: {} },
      ],
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toContain('queues[1] (fast).rateLimits.maxDispatchesPerSecond');
    expect(problems.join('\n')).toContain('queues[2] (slow).retryConfig.minBackoff');
    expect(problems.join('\n')).toContain('queues[2] (slow).retryConfig.maxAttempts');
    expect(problems.join('\n')).toMatch(/queues\[3\] \(typo\).*retryConfg/);
  });

  it('rejects bad queue ids, duplicates and a minBackoff above maxBackoff', () => {
    const problems = problemsOf({
      queues: [{ name: 'bad_id' }, { name: 'a' }, { name: 'a' }, { name: 'b', retryConfig: { minBackoff: '10s', maxBackoff: '1s' } }],
    });
    expect(problems).toEqual([
      expect.stringContaining("queues[0] (bad_id).name: 'bad_id' is not a valid queue id"),
      expect.stringContaining('queues[2] (a).name: queue projects/local-project/locations/us-central1/queues/a is defined twice'),
      expect.stringContaining('queues[3] (b).retryConfig: minBackoff (10s) must not exceed maxBackoff (1s)'),
    ]);
  });

  it('reads the throttling mode of a queue and rejects anything but model or off', () => {
    const [q] = loadQueuesFile({ queues: [{ name: 'poison', throttling: 'off' }] });
    expect(q!.throttling).toBe('off');
    expect(loadQueuesFile({ queues: [{ name: 'plain' }] })[0]!.throttling).toBeUndefined();
    expect(problemsOf({ queues: [{ name: 'x', throttling: 'fast' }] })[0]).toMatch(/^queues\[0\] \(x\)\.throttling: /);
  });

  it('reports unreadable files and invalid YAML clearly', () => {
    expect(problemsOf(join(dir, 'missing.yaml'))[0]).toMatch(/cannot read .*missing\.yaml/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'queues: [\n');
    expect(problemsOf(bad)[0]).toMatch(/not valid YAML/);
  });

  it("takes a queue's App Engine host and routing override, and rejects a host that is not an origin", () => {
    const [q] = loadQueuesFile({ queues: [{ name: 'ae', appEngineHost: 'http://localhost:8081', appEngineRoutingOverride: { service: 'worker' } }] });
    expect(q!.input).toMatchObject({ appEngineHost: 'http://localhost:8081', appEngineRoutingOverride: { service: 'worker' } });
    expect(problemsOf({ queues: [{ name: 'ae', appEngineHost: 'localhost:8081/path' }] })).toEqual([
      'queues[0] (ae).appEngineHost: must be an http(s) origin like http://localhost:8081',
    ]);
  });

  it('treats an empty file as no queues', () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    expect(loadQueuesFile(empty)).toEqual([]);
  });

  it('converts durations with units', () => {
    expect([durationToMs('250ms'), durationToMs('0.1s'), durationToMs('5m'), durationToMs('1h'), durationToMs(1.5)]).toEqual([
      250, 100, 300_000, 3_600_000, 1500,
    ]);
  });
});
