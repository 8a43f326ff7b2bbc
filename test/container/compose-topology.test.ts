/**
 * docker-compose.yml's topology, run in this process: the emulator with the compose flags and the
 * mounted queues file, both tiers with the compose environments, the webhook — every compose
 * hostname swapped for a loopback address, nothing else changed. Proves the configuration works
 * together (queue names, chaining, OIDC issuer and JWKS, notification routing), which a static
 * check of each value cannot.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CloudTasksClient } from '@google-cloud/tasks';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { parseEmulatorArgs } from '../../src/emulator/cli.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startExecutor, type RunningExecutor } from '../../src/executor/index.js';
import { startWebhook, type Webhook } from '../../src/local/webhook.js';
import { makeLogger } from '../../src/log.js';
import { closeTasksClients, newEmulatorClient } from '../../src/queues/tasks-client.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Service {
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}
const services = (parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;

const silent = makeLogger({ level: 'silent' });
let emulator: Emulator;
let webhook: Webhook;
const tiers: RunningExecutor[] = [];
let client: CloudTasksClient;

/** A compose environment with service addresses pointed at the loopback processes. */
function localEnv(name: string, addresses: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...services[name]!.environment, HOST: '127.0.0.1', PORT: '0' };
  // AUTH_AUDIENCE names the tier's compose URL, which is not where it listens here (a random port):
  // the default outside Cloud Run, the address the push arrived at, stands in for it.
  delete env.AUTH_AUDIENCE;
  // Addresses only: AUTH_ISSUER is a name the tokens carry, not something to dial, and stays as is.
  for (const key of ['CLOUD_TASKS_EMULATOR_HOST', 'AUTH_JWKS_URL', 'PROBLEM_SERVICE', 'DEAD_LETTER_URL', 'NOTIFY_URL']) {
    let value = env[key];
    if (value === undefined) continue;
    for (const [from, to] of Object.entries(addresses)) value = value.replace(from, to);
    env[key] = value;
  }
  return env;
}

beforeAll(async () => {
  const emulatorCommand = services.emulator!.command!;
  const args = parseEmulatorArgs(emulatorCommand.slice(emulatorCommand.indexOf('emulator') + 1));
  const mount = services.emulator!.volumes!.map((v) => v.split(':')).find(([, target]) => target === args.queues)!;
  emulator = await startEmulator({ ...args, host: '127.0.0.1', port: 0, queues: resolve(ROOT, mount[0]!), logger: silent });
  webhook = await startWebhook({ host: '127.0.0.1', port: 0 });

  const addresses: Record<string, string> = { 'emulator:8123': emulator.address, 'http://webhook:8080': webhook.url };
  // Tier 2 first: tier 1 forwards to it.
  const tier2 = await startExecutor(loadConfig(localEnv('executor-2', addresses)), { logger: silent });
  tiers.push(tier2);
  addresses['http://executor-2:8080'] = tier2.url;
  tiers.unshift(await startExecutor(loadConfig(localEnv('executor-1', addresses)), { logger: silent }));
  client = newEmulatorClient(emulator.address);
}, 30_000);

afterAll(async () => {
  await client?.close();
  for (const tier of tiers) await tier.close();
  await closeTasksClients();
  await webhook?.close();
  await emulator?.close();
});

describe('the docker-compose topology', () => {
  it('runs valid jobs to success on tier 1 and invalid ones through tier 2 to failure, each notified once', async () => {
    const submit = services.submit!.entrypoint!;
    const serviceAccount = submit[submit.indexOf('--service-account') + 1]!;
    const env = services['executor-1']!.environment!;
    const parent = `projects/${env.GOOGLE_CLOUD_PROJECT}/locations/${env.TASKS_LOCATION}/queues/${env.EXECUTOR_QUEUE}`;
    const type = protobuf.loadSync(join(ROOT, 'proto/work.proto')).lookupType('morais_protos.SvcWorkRequest');

    const jobs = Array.from({ length: 8 }, (_, i) => ({ id: `compose-${i}`, invalid: i % 4 === 0 }));
    for (const job of jobs) {
      const body = type
        .encode(
          type.fromObject({
            sourceFile: job.invalid ? 'invalid' : 'gs://demo-bucket/report.pdf',
            webhookUrl: `${webhook.url}/notify`,
            context: { id: job.id },
          }),
        )
        .finish();
      await client.createTask({
        parent,
        task: {
          httpRequest: {
            httpMethod: 'POST',
            url: `${tiers[0]!.url}/`,
            headers: { 'content-type': 'application/json' },
            body: Buffer.from(body),
            oidcToken: { serviceAccountEmail: serviceAccount },
          },
        },
      });
    }

    const deadline = Date.now() + 30_000;
    while (!webhook.tally.allNotified(jobs.map((j) => j.id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Let a would-be duplicate arrive before counting.
    await new Promise((r) => setTimeout(r, 300));

    for (const job of jobs) {
      expect(webhook.tally.job(job.id)?.outcomes, job.id).toEqual([job.invalid ? 'failed' : 'succeeded']);
    }
    expect(webhook.tally.snapshot()).toMatchObject({ duplicates: 0, undecodable: 0, deadLetters: 0 });
  }, 40_000);
});
