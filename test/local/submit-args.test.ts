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
