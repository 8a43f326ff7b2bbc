import { describe, expect, it } from 'vitest';
import { parseSubmitArgs, type SubmitOptions } from '../../src/local/submit.js';

const NO_ENV = {};

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    return (err as { problems?: readonly string[] }).problems ?? [(err as Error).message];
  }
  throw new Error('expected a ConfigError');
}

describe('executor submit flags', () => {
  it('targets the local stack with no flags beyond --emulator', () => {
    expect(parseSubmitArgs(['--emulator', 'localhost:8123'], NO_ENV)).toEqual({
      target: {
        kind: 'queue',
        queue: 'projects/local-project/locations/us-central1/queues/incoming',
        url: 'http://127.0.0.1:8081/',
        serviceAccount: 'executor-local@local-project.iam.gserviceaccount.com',
        headers: {},
      },
      emulatorHost: 'localhost:8123',
      count: 1,
      payload: { kind: 'request', encoding: 'binary', sourceFile: 'gs://demo-bucket/report.pdf', webhookUrl: 'http://127.0.0.1:8090/notify' },
      json: false,
    });
  });

  it('takes the emulator from CLOUD_TASKS_EMULATOR_HOST', () => {
    const o = parseSubmitArgs(['--invalid', '-n', '5', '--encoding', 'json', '--id', 'batch'], { CLOUD_TASKS_EMULATOR_HOST: '127.0.0.1:9000' });
    expect(o).toMatchObject({ emulatorHost: '127.0.0.1:9000', count: 5, payload: { kind: 'request', encoding: 'json', sourceFile: 'invalid', idPrefix: 'batch' } });
  });

  it('requires --project and --url for Google and says how to use the emulator instead', () => {
    const p = problems(() => parseSubmitArgs([], NO_ENV));
    expect(p.join('\n')).toMatch(/--project/);
    expect(p.join('\n')).toMatch(/--emulator/);
    expect(p.join('\n')).toMatch(/--url is required/);
  });

  it('builds a Google queue path from --project and --location and sends no OIDC token unless asked', () => {
    const o = parseSubmitArgs(['--project', 'my-proj', '--location', 'europe-west1', '--queue', 'incoming-2', '--url', 'https://x.a.run.app/'], NO_ENV);
    expect(o).toMatchObject({ target: { queue: 'projects/my-proj/locations/europe-west1/queues/incoming-2', url: 'https://x.a.run.app/' } });
    expect(o).not.toHaveProperty('emulatorHost');
    expect(o).not.toHaveProperty('target.serviceAccount');
  });

  it('names every bad flag at once', () => {
    const p = problems(() => parseSubmitArgs(['--count', '0', '--encoding', 'xml', '--url', 'ftp://x', '--emulator', 'nohost'], NO_ENV));
    expect(p.join('\n')).toMatch(/--count must be an integer from 1 to 100000, got '0'/);
    expect(p.join('\n')).toMatch(/--encoding must be 'binary', 'json' or 'envelope'/);
    expect(p.join('\n')).toMatch(/--url must be an http\(s\) URL/);
  });

  it('rejects an emulator address that is not host:port', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'nohost'], NO_ENV)).join('\n')).toMatch(/host:port/);
  });

  it('refuses --file combined with request flags, and unknown flags', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--file', 'e.json', '--invalid'], NO_ENV)).join('\n')).toMatch(/--file .* --invalid/);
    expect(problems(() => parseSubmitArgs(['--frobnicate'], NO_ENV)).join('\n')).toMatch(/frobnicate/);
  });

  it('omits the token with --no-oidc', () => {
    expect(parseSubmitArgs(['--emulator', 'h:1', '--no-oidc'], NO_ENV)).not.toHaveProperty('target.serviceAccount');
  });

  it('answers help', () => {
    expect(parseSubmitArgs(['--help'], NO_ENV)).toBe('help');
  });
});

describe('executor submit queue names', () => {
  it('accepts a full queue path without --project', () => {
    const o = parseSubmitArgs(['--queue', 'projects/p1/locations/asia-east1/queues/q-1', '--url', 'https://x.run.app/'], {});
    expect(o).toMatchObject({ target: { queue: 'projects/p1/locations/asia-east1/queues/q-1' } });
  });

  it('names an invalid queue id as such', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--queue', 'bad name'], {})).join('\n')).toMatch(/must be a queue id/);
  });

  it('asks for the location when only the project is known', () => {
    expect(problems(() => parseSubmitArgs(['--url', 'https://x.run.app/'], { GOOGLE_CLOUD_PROJECT: 'p' })).join('\n')).toMatch(/pass --location \(or TASKS_LOCATION\)/);
  });
});

describe("gcloud's spellings", () => {
  it('take --oidc-service-account-email and --oidc-token-audience for --service-account and --audience', () => {
    const o = parseSubmitArgs(['--emulator', '127.0.0.1:1', '--oidc-service-account-email', 'a@b.iam.gserviceaccount.com', '--oidc-token-audience', 'https://aud'], {}) as SubmitOptions;
    expect(o.target).toMatchObject({ serviceAccount: 'a@b.iam.gserviceaccount.com', audience: 'https://aud' });
  });

  it('refuse both spellings with different values', () => {
    expect(() => parseSubmitArgs(['--emulator', '127.0.0.1:1', '--audience', 'x', '--oidc-token-audience', 'y'], {})).toThrow(/--audience and --oidc-token-audience are the same flag/);
  });
});

describe('--header', () => {
  it("takes gcloud's KEY:VALUE, repeatable, keeping colons and commas in the value", () => {
    const o = parseSubmitArgs(['--emulator', 'h:1', '--header', 'X-Trace: abc:1,2', '--header', 'X-Other:v'], NO_ENV) as SubmitOptions;
    expect(o.target).toMatchObject({ headers: { 'X-Trace': 'abc:1,2', 'X-Other': 'v' } });
  });

  it('refuses a header without a colon, a bad name, one given twice, and those Cloud Tasks sets itself', () => {
    const p = problems(() =>
      parseSubmitArgs(['--emulator', 'h:1', '--header', 'novalue', '--header', 'bad name:x', '--header', 'A:1', '--header', 'a:2', '--header', 'X-CloudTasks-TaskRetryCount:0'], NO_ENV),
    ).join('\n');
    expect(p).toMatch(/--header must be KEY:VALUE .* got 'novalue'/);
    expect(p).toMatch(/got 'bad name:x'/);
    expect(p).toMatch(/--header a is given twice/);
    expect(p).toMatch(/--header X-CloudTasks-TaskRetryCount: Cloud Tasks sets this header on every push itself/);
  });

  it('refuses an Authorization header next to the OIDC token that Cloud Tasks sends as Authorization', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--header', 'Authorization:Bearer x'], NO_ENV)).join('\n')).toMatch(/pass --no-oidc to send your own/);
    expect(parseSubmitArgs(['--emulator', 'h:1', '--no-oidc', '--header', 'Authorization:Bearer x'], NO_ENV)).toMatchObject({ target: { headers: { Authorization: 'Bearer x' } } });
  });
});

describe('--schedule-time', () => {
  const NOW = Date.parse('2026-12-04T10:00:00Z');
  const at = (value: string): unknown => (parseSubmitArgs(['--emulator', 'h:1', '--schedule-time', value], NO_ENV, NOW) as SubmitOptions).target;

  it('takes an RFC 3339 time with a zone, fractions included', () => {
    expect(at('2026-12-04T12:30:00Z')).toMatchObject({ scheduleTime: Date.parse('2026-12-04T12:30:00Z') });
    expect(at('2026-12-04T12:30:00.250+01:00')).toMatchObject({ scheduleTime: Date.parse('2026-12-04T11:30:00.250Z') });
    expect(at('2026-12-04T12:30:00.123456789Z')).toMatchObject({ scheduleTime: Date.parse('2026-12-04T12:30:00.123Z') });
  });

  it('takes a delay from now: +30s, +5m, +1h30m, +1d', () => {
    expect(at('+30s')).toMatchObject({ scheduleTime: NOW + 30_000 });
    expect(at('+5m')).toMatchObject({ scheduleTime: NOW + 300_000 });
    expect(at('+1h30m')).toMatchObject({ scheduleTime: NOW + 5_400_000 });
    expect(at('+1d')).toMatchObject({ scheduleTime: NOW + 86_400_000 });
  });

  it('says what it takes for anything else, and refuses more than 30 days ahead as Cloud Tasks does', () => {
    for (const bad of ['tomorrow', '2026-12-04 12:30', '2026-12-04T12:30:00', '+', '+30', '30s']) {
      expect(problems(() => at(bad)).join('\n'), bad).toMatch(/--schedule-time must be an RFC 3339 time with a zone .* or a delay like \+30s/);
    }
    expect(problems(() => at('+31d')).join('\n')).toMatch(/more than 30 days ahead/);
  });
});

describe('--body-file', () => {
  it('sends the file as raw bytes labelled application/octet-stream, or --content-type', () => {
    expect(parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'b.bin'], NO_ENV)).toMatchObject({ payload: { kind: 'raw', file: 'b.bin', contentType: 'application/octet-stream' } });
    expect(parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'b.json', '--content-type', 'application/json'], NO_ENV)).toMatchObject({
      payload: { kind: 'raw', contentType: 'application/json' },
    });
  });

  it('refuses it next to --file or request flags, and --content-type without it or next to a Content-Type header', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'a', '--file', 'b'], NO_ENV)).join('\n')).toMatch(/--file and --body-file both give the body/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'a', '--id', 'x'], NO_ENV)).join('\n')).toMatch(/--body-file sends the body as written; it cannot be combined with --id/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--content-type', 'text/plain'], NO_ENV)).join('\n')).toMatch(/--content-type labels a --body-file body/);
    expect(
      problems(() => parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'a', '--content-type', 'text/plain', '--header', 'content-type:text/csv'], NO_ENV)).join('\n'),
    ).toMatch(/both set the Content-Type/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--body-file', 'a', '--content-type', 'nonsense'], NO_ENV)).join('\n')).toMatch(/--content-type must be a media type/);
  });
});

describe('--wait', () => {
  it('follows the jobs on the webhook they notify, for --wait-timeout seconds (default 120)', () => {
    expect(parseSubmitArgs(['--emulator', 'h:1', '--wait'], NO_ENV)).toMatchObject({ wait: { timeoutMs: 120_000 }, payload: { webhookUrl: 'http://127.0.0.1:8090/notify' } });
    expect(parseSubmitArgs(['--emulator', 'h:1', '--wait', '--wait-timeout', '5'], NO_ENV)).toMatchObject({ wait: { timeoutMs: 5000 } });
  });

  it('needs a webhook on Google, one job per --file, at most 10000 jobs, and --wait for --wait-timeout', () => {
    const google = ['--project', 'p', '--location', 'l', '--url', 'https://x.run.app/'];
    expect(problems(() => parseSubmitArgs([...google, '--wait'], NO_ENV)).join('\n')).toMatch(/--wait follows the jobs on the webhook they notify: pass --webhook URL/);
    expect(parseSubmitArgs([...google, '--wait', '--webhook', 'http://127.0.0.1:8090/notify'], NO_ENV)).toMatchObject({ wait: {} });
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--wait', '--file', 'j.json', '-n', '2'], NO_ENV)).join('\n')).toMatch(/every copy carries the same job id/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--wait', '-n', '10001'], NO_ENV)).join('\n')).toMatch(/--wait follows at most 10000 jobs/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--wait-timeout', '5'], NO_ENV)).join('\n')).toMatch(/--wait-timeout only applies with --wait/);
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--wait', '--wait-timeout', '0'], NO_ENV)).join('\n')).toMatch(/--wait-timeout must be an integer from 1 to 86400/);
  });
});

describe('--topic', () => {
  it('publishes to a short topic id in the emulator project, or a full topic path', () => {
    expect(parseSubmitArgs(['--emulator', 'h:1', '--topic', 'jobs'], NO_ENV)).toMatchObject({ target: { kind: 'topic', topic: 'projects/local-project/topics/jobs' }, emulatorHost: 'h:1' });
    expect(parseSubmitArgs(['--topic', 'projects/p-1/topics/jobs'], NO_ENV)).toMatchObject({ target: { topic: 'projects/p-1/topics/jobs' } });
    expect(parseSubmitArgs(['--topic', 'jobs', '--project', 'mine'], NO_ENV)).not.toHaveProperty('emulatorHost');
  });

  it('finds the emulator in PUBSUB_EMULATOR_HOST first, then CLOUD_TASKS_EMULATOR_HOST (one port serves both)', () => {
    expect(parseSubmitArgs(['--topic', 'jobs'], { PUBSUB_EMULATOR_HOST: 'ps:1', CLOUD_TASKS_EMULATOR_HOST: 'ct:2' })).toMatchObject({ emulatorHost: 'ps:1' });
    expect(parseSubmitArgs(['--topic', 'jobs'], { CLOUD_TASKS_EMULATOR_HOST: 'ct:2' })).toMatchObject({ emulatorHost: 'ct:2' });
    expect(parseSubmitArgs([], { PUBSUB_EMULATOR_HOST: 'ps:1', CLOUD_TASKS_EMULATOR_HOST: 'ct:2' })).toMatchObject({ emulatorHost: 'ct:2' });
  });

  it('refuses the flags of a Cloud Tasks task, bad topic names and a short id without a project', () => {
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--topic', 'jobs', '--url', 'http://x/', '--header', 'a:b', '--schedule-time', '+1s'], NO_ENV)).join('\n')).toMatch(
      /--topic publishes a Pub\/Sub message .* cannot be combined with --url, --header, --schedule-time/,
    );
    expect(problems(() => parseSubmitArgs(['--emulator', 'h:1', '--topic', 'goog-x'], NO_ENV)).join('\n')).toMatch(/--topic must be a topic id/);
    expect(problems(() => parseSubmitArgs(['--topic', 'projects/p/queues/x'], NO_ENV)).join('\n')).toMatch(/--topic must be projects\/PROJECT\/topics\/TOPIC/);
    expect(problems(() => parseSubmitArgs(['--topic', 'jobs'], NO_ENV)).join('\n')).toMatch(/short topic id: pass --project/);
  });
});
