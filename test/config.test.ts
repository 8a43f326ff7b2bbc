import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig, loadLogFormat, parseCommand } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const BASE = { WORKER_MODULE: 'demo', AUTH_DISABLED: 'true' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('EXECUTOR_CONFIG_INVALID');
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(BASE)).toEqual({
      port: 8080,
      host: '0.0.0.0',
      maxAttempts: 20,
      auth: { disabled: true },
      worker: { kind: 'module', module: 'demo' },
      workerTimeoutMs: 300_000,
      workerMaxOutputBytes: 65536,
      shutdownGraceMs: 8000,
      retryAfterSeconds: 10,
      logLevel: 'info',
      logDeliveries: 'all',
      onCloudRun: false,
    });
  });

  it('reads the Pub/Sub variables, resolving short ids with GOOGLE_CLOUD_PROJECT', () => {
    const c = loadConfig({ ...BASE, GOOGLE_CLOUD_PROJECT: 'p1', NOTIFY_TOPIC: 'job-results', NEXT_TOPIC: 'projects/p2/topics/jobs-2', EXECUTOR_SUBSCRIPTION: 'jobs-tier1' });
    expect(c).toMatchObject({ notifyTopic: 'projects/p1/topics/job-results', nextTopic: 'projects/p2/topics/jobs-2', executorSubscription: 'projects/p1/subscriptions/jobs-tier1' });
    // The project's emulator serves both APIs: PUBSUB_EMULATOR_HOST defaults to CLOUD_TASKS_EMULATOR_HOST.
    expect(loadConfig({ ...BASE, CLOUD_TASKS_EMULATOR_HOST: 'localhost:8123' }).pubsubEmulatorHost).toBe('localhost:8123');
    expect(loadConfig({ ...BASE, CLOUD_TASKS_EMULATOR_HOST: 'localhost:8123', PUBSUB_EMULATOR_HOST: 'localhost:8085' }).pubsubEmulatorHost).toBe('localhost:8085');
  });

  it('refuses bad Pub/Sub names, a short id without a project, and two next tiers', () => {
    const p = problems({
      ...BASE,
      NOTIFY_TOPIC: 'projects/p/topics/goog-x',
      NEXT_TOPIC: 'jobs-2',
      EXECUTOR_SUBSCRIPTION: 'x',
      PROBLEM_QUEUE: 'projects/p/locations/l/queues/q',
      PROBLEM_SERVICE: 'https://t2.example.test/',
    });
    expect(p).toContain("NOTIFY_TOPIC must be projects/PROJECT/topics/ID or a topic id, got 'projects/p/topics/goog-x'");
    expect(p.some((m) => m.startsWith("NEXT_TOPIC is a short topic id ('jobs-2'): set GOOGLE_CLOUD_PROJECT"))).toBe(true);
    expect(p.some((m) => m.startsWith('EXECUTOR_SUBSCRIPTION must be a subscription id'))).toBe(true);
    expect(p).toContain('NEXT_TOPIC and PROBLEM_QUEUE are both set: a tier forwards to one next tier, a topic or a queue; unset one');
  });

  it('refuses a PUBSUB_EMULATOR_HOST that is not host:port', () => {
    expect(problems({ ...BASE, PUBSUB_EMULATOR_HOST: 'nope' })).toContain('PUBSUB_EMULATOR_HOST must be host:port, e.g. localhost:8123');
  });

  it('reads RETRY_AFTER_SECONDS and refuses what is not a positive integer', () => {
    expect(loadConfig({ ...BASE, RETRY_AFTER_SECONDS: '2' }).retryAfterSeconds).toBe(2);
    expect(() => loadConfig({ ...BASE, RETRY_AFTER_SECONDS: 'soon' })).toThrow(/RETRY_AFTER_SECONDS/);
  });

  it('reads a full tier configuration, resolving short queue ids', () => {
    const c = loadConfig({
      PORT: '9000',
      MAX_ATTEMPTS: '5',
      TIER: '2',
      GOOGLE_CLOUD_PROJECT: 'proj',
      NOTIFIER_QUEUE: 'notifier',
      NOTIFIER_LOCATION: 'europe-west1',
      PROBLEM_QUEUE: 'incoming-3',
      PROBLEM_SERVICE: 'https://tier-3.run.app',
      DEAD_LETTER_QUEUE: 'projects/other/locations/us-east1/queues/dlq',
      DEAD_LETTER_URL: 'https://dlq.example.test/',
      TASKS_SERVICE_ACCOUNT: 'tasks@proj.iam.gserviceaccount.com',
      CLOUD_TASKS_EMULATOR_HOST: 'localhost:8123',
      WORKER_URL: 'http://127.0.0.1:9999/work',
    });
    expect(c).toMatchObject({
      port: 9000,
      maxAttempts: 5,
      tier: 2,
      project: 'proj',
      notifierQueue: 'projects/proj/locations/europe-west1/queues/notifier',
      next: { queue: 'projects/proj/locations/europe-west1/queues/incoming-3', url: 'https://tier-3.run.app' },
      deadLetterQueue: 'projects/other/locations/us-east1/queues/dlq',
      emulatorHost: 'localhost:8123',
      worker: { kind: 'http', url: 'http://127.0.0.1:9999/work' },
      auth: {
        disabled: false,
        allowedEmails: ['tasks@proj.iam.gserviceaccount.com'],
        issuers: ['https://accounts.google.com', 'accounts.google.com'],
      },
    });
  });

  it('builds inbound auth from the AUTH_ variables', () => {
    const c = loadConfig({
      WORKER_MODULE: 'demo',
      AUTH_ALLOWED_EMAILS: 'a@x.test, b@y.test',
      AUTH_AUDIENCE: 'https://me.test/',
      AUTH_ISSUER: 'http://localhost:8123',
      AUTH_JWKS_URL: 'http://localhost:8123/jwks',
    });
    expect(c.auth).toEqual({
      disabled: false,
      allowedEmails: ['a@x.test', 'b@y.test'],
      issuers: ['http://localhost:8123'],
      audience: 'https://me.test/',
      jwksUrl: 'http://localhost:8123/jwks',
    });
  });

  it('takes the default audience from Host only on Cloud Run (K_SERVICE set), never elsewhere', () => {
    const base = { WORKER_MODULE: 'demo', AUTH_ALLOWED_EMAILS: 'a@x.test' };
    expect(loadConfig(base).auth).toMatchObject({ hostAudience: false });
    expect(loadConfig({ ...base, K_SERVICE: 'executor-tier-1' }).auth).toMatchObject({ hostAudience: true });
    expect(loadConfig({ ...base, K_SERVICE: 'executor-tier-1', AUTH_AUDIENCE: 'https://me.test/' }).auth).not.toHaveProperty('hostAudience');
  });

  it('accepts several issuers', () => {
    const c = loadConfig({ WORKER_MODULE: 'demo', AUTH_ALLOWED_EMAILS: 'a@x.test', AUTH_ISSUER: 'https://a.test, https://b.test' });
    expect(c.auth).toMatchObject({ issuers: ['https://a.test', 'https://b.test'] });
  });

  it('refuses to start without auth configuration unless AUTH_DISABLED=true', () => {
    expect(problems({ WORKER_MODULE: 'demo' })).toEqual([expect.stringContaining('AUTH_DISABLED=true')]);
  });

  it('names every offending variable at once', () => {
    const p = problems({
      PORT: '70000',
      MAX_ATTEMPTS: 'abc',
      WORKER_TIMEOUT_SECONDS: '0',
      AUTH_DISABLED: 'maybe',
      LOG_LEVEL: 'loud',
      CLOUD_TASKS_EMULATOR_HOST: 'http://x',
      NOTIFY_URL: 'nope',
      WORKER_MODULE: 'demo',
    }).join('\n');
    for (const v of ['PORT', 'MAX_ATTEMPTS', 'WORKER_TIMEOUT_SECONDS', 'AUTH_DISABLED', 'LOG_LEVEL', 'CLOUD_TASKS_EMULATOR_HOST', 'NOTIFY_URL']) {
      expect(p).toContain(v);
    }
    expect(p).toContain("MAX_ATTEMPTS must be a positive integer, got 'abc'");
  });

  it('names every cross-variable problem at once', () => {
    const p = problems({
      AUTH_DISABLED: 'true',
      WORKER_MODULE: 'demo',
      WORKER_URL: 'http://127.0.0.1/x',
      PROBLEM_QUEUE: 'incoming-2',
      DEAD_LETTER_QUEUE: 'projects/p/locations/l/queues/dlq',
      NOTIFIER_QUEUE: 'bad queue!',
    }).join('\n');
    expect(p).toContain('Set exactly one of WORKER_MODULE, WORKER_URL, WORKER_COMMAND');
    expect(p).toContain('PROBLEM_QUEUE is set but PROBLEM_SERVICE is not');
    expect(p).toContain('PROBLEM_QUEUE is a short queue id');
    expect(p).toContain('DEAD_LETTER_QUEUE is set but DEAD_LETTER_URL is not');
    expect(p).toContain('NOTIFIER_QUEUE must be a queue id');
  });

  it('reports bad values and problems between variables in one message (a missing PROBLEM_SERVICE does not wait for the type errors)', () => {
    const p = problems({ AUTH_DISABLED: 'true', WORKER_MODULE: 'demo', MAX_ATTEMPTS: 'three', PORT: 'x', PROBLEM_QUEUE: 'projects/p/locations/l/queues/q' });
    expect(p).toEqual([
      expect.stringContaining('PORT must be an integer'),
      expect.stringContaining("MAX_ATTEMPTS must be a positive integer, got 'three'"),
      expect.stringContaining('PROBLEM_QUEUE is set but PROBLEM_SERVICE is not'),
    ]);
  });

  it('counts a variable with a bad value as set in the checks between variables, without a second message about it', () => {
    // PROBLEM_SERVICE is set (badly): no "PROBLEM_QUEUE is set but PROBLEM_SERVICE is not", and no
    // "No work configured" for a bad WORKER_URL; a bad AUTH_DISABLED does not add "auth is not configured".
    const p = problems({ AUTH_DISABLED: 'maybe', WORKER_URL: 'ftp://w', PROBLEM_QUEUE: 'projects/p/locations/l/queues/q', PROBLEM_SERVICE: 'nope', DEAD_LETTER_QUEUE: 'projects/p/locations/l/queues/d' });
    expect(p).toEqual([
      expect.stringContaining('PROBLEM_SERVICE must be an http(s) URL'),
      expect.stringContaining('AUTH_DISABLED must be true or false'),
      expect.stringContaining('WORKER_URL must be an http(s) URL'),
      expect.stringContaining('DEAD_LETTER_QUEUE is set but DEAD_LETTER_URL is not'),
    ]);
  });

  it('requires some work', () => {
    expect(problems({ AUTH_DISABLED: 'true' })).toEqual([expect.stringContaining('No work configured')]);
  });

  it('parses WORKER_COMMAND as a JSON array or words', () => {
    expect(loadConfig({ AUTH_DISABLED: 'true', WORKER_COMMAND: '["/bin/echo","a b"]' }).worker).toEqual({ kind: 'command', argv: ['/bin/echo', 'a b'] });
    expect(loadConfig({ AUTH_DISABLED: 'true', WORKER_COMMAND: 'python3  work.py' }).worker).toEqual({ kind: 'command', argv: ['python3', 'work.py'] });
    expect(problems({ AUTH_DISABLED: 'true', WORKER_COMMAND: '["x", 1]' }).join()).toContain('WORKER_COMMAND');
    expect(parseCommand('[]')).toBeUndefined();
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ ...BASE, PORT: '', MAX_ATTEMPTS: '  ', NOTIFIER_QUEUE: '' }).maxAttempts).toBe(20);
  });

  it('reads LOG_FORMAT (json or pretty, any case) and notices Cloud Run by K_SERVICE', () => {
    expect(loadConfig({ ...BASE }).logFormat).toBeUndefined();
    expect(loadConfig({ ...BASE, LOG_FORMAT: 'Pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ ...BASE, LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ ...BASE }).onCloudRun).toBe(false);
    expect(loadConfig({ ...BASE, K_SERVICE: 'executor-tier-1' }).onCloudRun).toBe(true);
    expect(problems({ ...BASE, LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT must be json or pretty']);
    expect(loadLogFormat({ LOG_FORMAT: 'pretty', K_SERVICE: 's' })).toEqual({ logFormat: 'pretty', onCloudRun: true });
    expect(() => loadLogFormat({ LOG_FORMAT: 'text' })).toThrow('LOG_FORMAT must be json or pretty');
  });

  it('reads LOG_DELIVERIES (all or failures, any case), all by default, and refuses anything else', () => {
    expect(loadConfig({ ...BASE }).logDeliveries).toBe('all');
    expect(loadConfig({ ...BASE, LOG_DELIVERIES: ' Failures ' }).logDeliveries).toBe('failures');
    expect(loadConfig({ ...BASE, LOG_DELIVERIES: '' }).logDeliveries).toBe('all');
    expect(problems({ ...BASE, LOG_DELIVERIES: 'errors' })).toEqual(['LOG_DELIVERIES must be all or failures']);
  });

  it('documents every variable it reads', () => {
    const read = ['PORT', 'HOST', 'MAX_ATTEMPTS', 'TIER', 'GOOGLE_CLOUD_PROJECT', 'NOTIFIER_QUEUE', 'NOTIFIER_LOCATION', 'PROBLEM_QUEUE', 'PROBLEM_SERVICE', 'DEAD_LETTER_QUEUE', 'TASKS_SERVICE_ACCOUNT', 'CLOUD_TASKS_EMULATOR_HOST', 'AUTH_AUDIENCE', 'AUTH_ALLOWED_EMAILS', 'AUTH_ISSUER', 'AUTH_JWKS_URL', 'AUTH_DISABLED', 'WORKER_MODULE', 'WORKER_URL', 'WORKER_COMMAND'];
    for (const v of read) expect(Object.keys(CONFIG_VARIABLES)).toContain(v);
  });
});
