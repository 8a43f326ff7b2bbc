/**
 * The delivery's one log line: the hand-serialised line is the one pino's generic path writes for
 * the same delivery, and LOG_DELIVERIES decides which deliveries write one (metrics count them all).
 */
import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutorConfig, LogDeliveries } from '../../src/config.js';
import { buildApp } from '../../src/executor/app.js';
import type { PushVerifier } from '../../src/executor/auth.js';
import { logsDelivery } from '../../src/executor/push.js';
import type { TasksApi } from '../../src/queues/create-task.js';
import { makeLogger } from '../../src/log.js';
import type { RunOutcome } from '../../src/work/types.js';
import type { Loose } from '../helpers/defined.js';
import { pushHeaders, scriptedRunner, testConfig } from '../helpers/executor-fixtures.js';

const WEBHOOK = 'https://client.example.test/hook';
const tasks: TasksApi = { createTask: async (request) => [request.task] };

/** Raw lines of a logger; `generic` routes them through a multistream, which pino's own serialiser must handle. */
function rawLogger(generic: boolean) {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { logger: makeLogger({ destination: generic ? pino.multistream([{ stream: sink }]) : sink }), raw };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(options: { generic?: boolean; config?: Loose<ExecutorConfig>; outcome?: RunOutcome; verifier?: PushVerifier } = {}) {
  const log = rawLogger(options.generic ?? false);
  const runner = scriptedRunner(() => options.outcome ?? { kind: 'success' });
  const app = buildApp({
    config: testConfig({ next: undefined, ...options.config }),
    runner,
    tasks,
    logger: log.logger,
    clock: () => new Date('2026-12-04T03:00:00.000Z'),
    ...(options.verifier !== undefined ? { verifier: options.verifier } : {}),
  });
  apps.push(app);
  await app.ready();
  const push = (body: string, headers: Record<string, string> = pushHeaders()) =>
    app.inject({ method: 'POST', url: '/', payload: body, headers: { 'content-type': 'application/json', ...headers } });
  const deliveryLines = () => log.raw.filter((l) => (JSON.parse(l) as { message?: string }).message === 'delivery');
  return { app, push, deliveryLines };
}

/** A line with what differs between two runs of the same push (time, duration) blanked. */
const comparable = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"').replace(/"durationMs":\d+/, '"durationMs":0');

const refuseAll: PushVerifier = { verify: async () => ({ ok: false, status: 403, code: 'AUTH_EMAIL_NOT_ALLOWED', reason: 'token email is not allowed to push to this service' }) };

describe('the delivery line', () => {
  const cases: { name: string; body: string; headers?: Record<string, string>; outcome?: RunOutcome; config?: Loose<ExecutorConfig>; verifier?: PushVerifier }[] = [
    {
      name: 'a success with a W3C trace',
      body: JSON.stringify({ payload: 1 }),
      headers: pushHeaders({ extra: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } }),
    },
    {
      name: 'a success with a legacy X-Cloud-Trace-Context, notified (a handoff)',
      body: JSON.stringify({ payload: 1, webhookUrl: WEBHOOK }),
      headers: pushHeaders({ extra: { 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1' } }),
    },
    {
      name: 'a retryable failure whose message needs escaping',
      body: JSON.stringify({ payload: 1 }),
      outcome: { kind: 'retryable', error: { type: 'Error', message: 'bad "input" at C:\\tmp\nline 2, é 😀' } },
    },
    { name: 'an undecodable body with no dead-letter queue', body: '{not json' },
    { name: 'a push without Cloud Tasks headers', body: JSON.stringify({ payload: 1 }), headers: {} },
    {
      name: 'a refused token (only the tier before authentication)',
      body: JSON.stringify({ payload: 1 }),
      config: { auth: { disabled: false, allowedEmails: ['a@b.c'], issuers: ['https://accounts.google.com'] } },
      verifier: refuseAll,
    },
  ];

  for (const c of cases) {
    it(`is the line pino writes for the same record: ${c.name}`, async () => {
      const lines: string[] = [];
      for (const generic of [false, true]) {
        const { push, deliveryLines } = await start({ generic, ...(c.outcome ? { outcome: c.outcome } : {}), ...(c.config ? { config: c.config } : {}), ...(c.verifier ? { verifier: c.verifier } : {}) });
        await push(c.body, c.headers ?? pushHeaders());
        const [line, ...more] = deliveryLines();
        expect(more).toEqual([]);
        lines.push(comparable(line!));
      }
      expect(lines[0]).toBe(lines[1]);
    });
  }
});

describe('LOG_DELIVERIES', () => {
  it('failures: writes no line for a delivery that succeeded without a handoff, and still counts it', async () => {
    const { app, push, deliveryLines } = await start({ config: { logDeliveries: 'failures' } });
    expect((await push(JSON.stringify({ payload: 1 }))).statusCode).toBe(200);
    expect(deliveryLines()).toEqual([]);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/executor_deliveries_total\{outcome="success",status="200"\} 1/);
    expect(metrics.body).toMatch(/executor_delivery_duration_seconds_count\{outcome="success"\} 1/);
  });

  it('failures: still logs failures, handoffs, drops and refusals', async () => {
    const retry = await start({ config: { logDeliveries: 'failures' }, outcome: { kind: 'retryable', error: { type: 'Error', message: 'later' } } });
    await retry.push(JSON.stringify({ payload: 1 }));
    expect(retry.deliveryLines().map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ outcome: 'retryable', action: 'retry', severity: 'INFO' }]);

    const notify = await start({ config: { logDeliveries: 'failures' } });
    await notify.push(JSON.stringify({ payload: 1, webhookUrl: WEBHOOK }));
    expect(notify.deliveryLines().map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ outcome: 'success', action: 'notify', handoff: { kind: 'notify-success' } }]);

    const ignored = await start({ config: { logDeliveries: 'failures' }, outcome: { kind: 'ignore' } });
    await ignored.push(JSON.stringify({ payload: 1 }));
    expect(ignored.deliveryLines().map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ outcome: 'ignore', action: 'ack' }]);

    const refused = await start({ config: { logDeliveries: 'failures', auth: { disabled: false, allowedEmails: ['a@b.c'], issuers: ['https://accounts.google.com'] } }, verifier: refuseAll });
    await refused.push(JSON.stringify({ payload: 1 }));
    expect(refused.deliveryLines().map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ outcome: 'unauthorized', status: 403, severity: 'WARNING' }]);

    const undecodable = await start({ config: { logDeliveries: 'failures' } });
    await undecodable.push('{not json');
    expect(undecodable.deliveryLines().map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ outcome: 'undecodable', status: 400, severity: 'ERROR' }]);
  });

  it('all (the default): logs the plain success too', async () => {
    const { push, deliveryLines } = await start();
    await push(JSON.stringify({ payload: 1 }));
    expect(deliveryLines()).toHaveLength(1);
  });

  it('drops only the info line of a success acked as it is', () => {
    const table: [LogDeliveries, 'info' | 'warn' | 'error', string, string | undefined, boolean][] = [
      ['failures', 'info', 'success', 'ack', false],
      ['failures', 'error', 'success', 'ack', true], // acked but unnotified
      ['failures', 'info', 'success', 'notify', true],
      ['failures', 'info', 'ignore', 'ack', true],
      ['failures', 'info', 'retryable', 'retry', true],
      ['failures', 'warn', 'unauthorized', undefined, true],
      ['all', 'info', 'success', 'ack', true],
    ];
    for (const [mode, level, outcome, action, logged] of table) expect(logsDelivery(mode, level, outcome, action), `${mode} ${level} ${outcome} ${action}`).toBe(logged);
  });
});
