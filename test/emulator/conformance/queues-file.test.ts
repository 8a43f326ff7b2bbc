// Pins the queues file read at startup (the docker-compose use case): queues created with their retry
// config, rate limits and state, in REST field names, durations as "0.1s" strings or numbers of
// seconds; every validation error names the queue and the field.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import { makeGrpcClient } from './helpers/clients.js';
import { LOCATION_PATH, toSeconds } from './helpers/harness.js';
import { sleep, startReceiver } from './helpers/receiver.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-queues-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeYaml(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

function stateName(state: unknown): string {
  return typeof state === 'number' ? (['STATE_UNSPECIFIED', 'RUNNING', 'PAUSED', 'DISABLED'][state] ?? String(state)) : String(state);
}

describe('queues file at startup', () => {
  it('creates every queue with its retry config, rate limits and state', async () => {
    const file = await writeYaml(
      'queues.yaml',
      `
project: local-project
location: us-central1
queues:
  - name: incoming
    rateLimits:
      maxDispatchesPerSecond: 200
      maxConcurrentDispatches: 50
    retryConfig:
      maxAttempts: 5
      minBackoff: 0.1s
      maxBackoff: 1s
      maxDoublings: 4
      maxRetryDuration: 0s
  - name: held
    state: PAUSED
    retryConfig:
      maxAttempts: -1
      minBackoff: 2
  - name: projects/other-project/locations/europe-west1/queues/elsewhere
`,
    );
    const emulator = await startEmulator({ port: 0, queues: file });
    const client = makeGrpcClient(emulator);
    const receiver = await startReceiver();
    try {
      const [incoming] = await client.getQueue({ name: `${LOCATION_PATH}/queues/incoming` });
      expect(stateName(incoming.state)).toBe('RUNNING');
      expect(incoming.rateLimits).toMatchObject({ maxDispatchesPerSecond: 200, maxConcurrentDispatches: 50 });
      expect(incoming.retryConfig?.maxAttempts).toBe(5);
      expect(toSeconds(incoming.retryConfig?.minBackoff)).toBeCloseTo(0.1, 5);
      expect(toSeconds(incoming.retryConfig?.maxBackoff)).toBe(1);
      expect(incoming.retryConfig?.maxDoublings).toBe(4);

      const [held] = await client.getQueue({ name: `${LOCATION_PATH}/queues/held` });
      expect(stateName(held.state)).toBe('PAUSED');
      expect(held.retryConfig?.maxAttempts).toBe(-1);
      expect(toSeconds(held.retryConfig?.minBackoff)).toBe(2);
      // Unset fields take the production defaults.
      expect(held.rateLimits?.maxDispatchesPerSecond).toBe(500);
      expect(held.retryConfig?.maxDoublings).toBe(16);

      const [elsewhere] = await client.getQueue({ name: 'projects/other-project/locations/europe-west1/queues/elsewhere' });
      expect(elsewhere.name).toBe('projects/other-project/locations/europe-west1/queues/elsewhere');

      // A PAUSED queue from the file accepts tasks and holds them.
      await client.createTask({ parent: `${LOCATION_PATH}/queues/held`, task: { httpRequest: { url: `${receiver.url}/held` } } });
      await client.createTask({ parent: `${LOCATION_PATH}/queues/incoming`, task: { httpRequest: { url: `${receiver.url}/incoming` } } });
      await receiver.waitFor('/incoming', 1);
      await sleep(300);
      expect(receiver.at('/held')).toHaveLength(0);
    } finally {
      await client.close();
      await emulator.close();
      await receiver.close();
    }
  });

  it('accepts the parsed content instead of a path, with the default project and location', async () => {
    const emulator = await startEmulator({ port: 0, queues: { queues: [{ name: 'from-object', retryConfig: { maxAttempts: 2 } }] } });
    const client = makeGrpcClient(emulator);
    try {
      const [queue] = await client.getQueue({ name: 'projects/local-project/locations/us-central1/queues/from-object' });
      expect(queue.retryConfig?.maxAttempts).toBe(2);
    } finally {
      await client.close();
      await emulator.close();
    }
  });

  it.each([
    ['a maxAttempts below -1', 'queues:\n  - name: bad-attempts\n    retryConfig:\n      maxAttempts: -2\n', ['bad-attempts', 'maxAttempts']],
    ['an unknown state', 'queues:\n  - name: bad-state\n    state: STOPPED\n', ['bad-state', 'state']],
    ['a rate above 500/s', 'queues:\n  - name: too-fast\n    rateLimits:\n      maxDispatchesPerSecond: 501\n', ['too-fast', 'maxDispatchesPerSecond']],
    ['more than 5000 concurrent', 'queues:\n  - name: too-wide\n    rateLimits:\n      maxConcurrentDispatches: 5001\n', ['too-wide', 'maxConcurrentDispatches']],
    ['an unparsable duration', 'queues:\n  - name: bad-backoff\n    retryConfig:\n      minBackoff: soon\n', ['bad-backoff', 'minBackoff']],
    ['an illegal queue id', 'queues:\n  - name: bad_id!\n', ['bad_id!']],
    ['a duplicated queue', 'queues:\n  - name: twice\n  - name: twice\n', ['twice']],
    ['an unknown field (a typo)', 'queues:\n  - name: typo\n    retryConfig:\n      maxAttempt: 3\n', ['typo', 'maxAttempt']],
  ])('refuses to start on %s, naming the queue and the field', async (_what, yaml, mentions) => {
    const file = await writeYaml(`bad-${mentions[0]!.replace(/\W/g, '')}.yaml`, yaml);
    let message = '';
    try {
      const emulator = await startEmulator({ port: 0, queues: file });
      await emulator.close();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message, 'startEmulator should have rejected').not.toBe('');
    for (const word of mentions) expect(message).toContain(word);
  });

  it('refuses to start on invalid YAML or a missing file, naming the file', async () => {
    const broken = await writeYaml('broken.yaml', 'queues:\n  - name: [unclosed\n');
    await expect(startEmulator({ port: 0, queues: broken })).rejects.toThrow(/broken\.yaml/);
    const missing = join(dir, 'does-not-exist.yaml');
    await expect(startEmulator({ port: 0, queues: missing })).rejects.toThrow(/does-not-exist\.yaml/);
  });
});
