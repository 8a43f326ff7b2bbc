import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../src/config.js';
import { buildApp } from '../../src/executor/app.js';
import { makePushVerifier, requestAudiences, socketAudiences } from '../../src/executor/auth.js';
import { defined } from '../helpers/defined.js';
import { captureLogger, pushHeaders, scriptedRunner, testConfig } from '../helpers/executor-fixtures.js';
import { claims, makeTestKey, signToken } from '../helpers/oidc.js';

const GOOGLE = 'https://www.googleapis.com';
const CERTS_PATH = '/oauth2/v1/certs';
const AUD = 'https://executor.example.test/';
const SA = 'tasks@test-project.iam.gserviceaccount.com';

const key = makeTestKey('key-1');
const other = makeTestKey('key-1'); // same kid, different key: a forged signature
const rotated = makeTestKey('key-2');

const google: AuthConfig = { disabled: false, allowedEmails: [SA], issuers: ['https://accounts.google.com', 'accounts.google.com'], audience: AUD };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)/);
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

function serveGoogleCerts(times = 1) {
  return nock(GOOGLE).get(CERTS_PATH).times(times).reply(200, { [key.kid]: key.pem }, { 'cache-control': 'public, max-age=0' });
}

const bearer = (token: string) => `Bearer ${token}`;

describe('makePushVerifier with Google certificates', () => {
  it('accepts a valid token and returns its email', async () => {
    serveGoogleCerts();
    const v = makePushVerifier(google);
    expect(await v.verify(bearer(signToken(key, claims())), [AUD])).toEqual({ ok: true, email: SA });
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ['a bare Bearer', 'Bearer '],
  ])('answers 401 AUTH_MISSING for %s, without fetching keys', async (_name, header) => {
    const v = makePushVerifier(google);
    expect(await v.verify(header, [AUD])).toMatchObject({ ok: false, status: 401, code: 'AUTH_MISSING' });
  });

  const cases: [string, () => string, string][] = [
    ['a token that is not a JWT', () => 'not-a-jwt', 'AUTH_MALFORMED'],
    ['a JWT whose header is not JSON', () => 'e30x.e30.sig', 'AUTH_MALFORMED'],
    ['an unsigned token (alg none)', () => signToken(key, claims(), { alg: 'none' }), 'AUTH_ALGORITHM'],
    ['an HS256 token', () => signToken(key, claims(), { alg: 'HS256' }).replace(/\.[^.]*$/, '.c2ln'), 'AUTH_ALGORITHM'],
    ['a token signed by an unknown key', () => signToken(rotated, claims()), 'AUTH_UNKNOWN_KEY'],
    ['a token with a forged signature', () => signToken(other, claims()), 'AUTH_SIGNATURE'],
    ['a tampered payload', () => {
      const [h, , s] = signToken(key, claims()).split('.');
      return `${h}.${Buffer.from(JSON.stringify(claims({ email: 'evil@x.test' }))).toString('base64url')}.${s}`;
    }, 'AUTH_SIGNATURE'],
    ['an expired token', () => signToken(key, claims({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })), 'AUTH_EXPIRED'],
    ['a token issued in the future', () => signToken(key, claims({ iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 })), 'AUTH_NOT_YET_VALID'],
    ['a token not valid before an hour from now (nbf)', () => signToken(key, claims({ nbf: Math.floor(Date.now() / 1000) + 3600 })), 'AUTH_NOT_YET_VALID'],
    ['a token whose nbf is not a number', () => signToken(key, claims({ nbf: 'soon' })), 'AUTH_INVALID'],
    ['a token with a critical header extension (crit)', () => signToken(key, claims(), { crit: ['exp'], exp: 1 }), 'AUTH_INVALID'],
    ['a token without exp', () => signToken(key, claims({ exp: undefined })), 'AUTH_INVALID'],
    ['a token from another issuer', () => signToken(key, claims({ iss: 'https://evil.example.test' })), 'AUTH_ISSUER'],
    ['a token for another audience', () => signToken(key, claims({ aud: 'https://other.example.test/' })), 'AUTH_AUDIENCE'],
    ['a token with an unverified email', () => signToken(key, claims({ email_verified: false })), 'AUTH_EMAIL_UNVERIFIED'],
    ['a token without email_verified', () => signToken(key, claims({ email_verified: undefined })), 'AUTH_EMAIL_UNVERIFIED'],
    ['a token for an account not on the allow-list', () => signToken(key, claims({ email: 'someone@else.iam.gserviceaccount.com' })), 'AUTH_EMAIL_NOT_ALLOWED'],
    ['a token without email', () => signToken(key, claims({ email: undefined })), 'AUTH_EMAIL_NOT_ALLOWED'],
  ];

  it.each(cases)('answers 403 for %s', async (_name, token, code) => {
    serveGoogleCerts();
    const v = makePushVerifier(google);
    const t = token();
    const result = await v.verify(bearer(t), [AUD]);
    expect(result).toMatchObject({ ok: false, status: 403, code });
    // The reason is safe to log: it never quotes the token.
    if (!result.ok) expect(result.reason).not.toContain(t.split('.')[1] ?? t);
  });

  it('accepts nbf in the past and nbf within the clock skew allowed for exp', async () => {
    serveGoogleCerts(2);
    const v = makePushVerifier(google, { tokenCacheSize: 0 });
    const now = Math.floor(Date.now() / 1000);
    expect(await v.verify(bearer(signToken(key, claims({ nbf: now - 60 }))), [AUD])).toMatchObject({ ok: true });
    expect(await v.verify(bearer(signToken(key, claims({ nbf: now + 60 }))), [AUD])).toMatchObject({ ok: true });
  });

  it('answers 503 AUTH_KEYS_UNAVAILABLE when Google certificates cannot be fetched', async () => {
    nock(GOOGLE).get(CERTS_PATH).times(5).reply(500, 'down');
    const v = makePushVerifier(google);
    expect(await v.verify(bearer(signToken(key, claims())), [AUD])).toMatchObject({ ok: false, status: 503, code: 'AUTH_KEYS_UNAVAILABLE' });
  });

  it('matches the allow-list case-insensitively and accepts any of several audiences', async () => {
    serveGoogleCerts();
    const v = makePushVerifier({ ...google, allowedEmails: [SA.toUpperCase()] });
    expect(await v.verify(bearer(signToken(key, claims({ aud: 'https://b.test/' }))), ['https://a.test/', 'https://b.test/'])).toMatchObject({ ok: true });
  });

  it('accepts anything when auth is disabled', async () => {
    expect(await makePushVerifier({ disabled: true }).verify(undefined, [])).toEqual({ ok: true });
  });
});

describe('makePushVerifier with AUTH_JWKS_URL', () => {
  const JWKS = 'https://emulator.example.test';
  const issuer = 'https://emulator.example.test';
  const cfg: AuthConfig = { disabled: false, allowedEmails: [SA], issuers: [issuer], audience: AUD, jwksUrl: `${JWKS}/jwks` };

  it('verifies against the JWKS and caches it', async () => {
    const scope = nock(JWKS).get('/jwks').once().reply(200, { keys: [key.jwk] }, { 'cache-control': 'max-age=300' });
    const v = makePushVerifier(cfg);
    const token = bearer(signToken(key, claims({ iss: issuer })));
    expect(await v.verify(token, [AUD])).toMatchObject({ ok: true, email: SA });
    expect(await v.verify(token, [AUD])).toMatchObject({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('refetches the JWKS when a token names a key it has not seen (rotation)', async () => {
    nock(JWKS).get('/jwks').reply(200, { keys: [key.jwk] }, { 'cache-control': 'max-age=300' });
    nock(JWKS).get('/jwks').reply(200, { keys: [key.jwk, rotated.jwk] }, { 'cache-control': 'max-age=300' });
    const v = makePushVerifier(cfg, { jwksRefetchMinMs: 0 });
    expect(await v.verify(bearer(signToken(key, claims({ iss: issuer }))), [AUD])).toMatchObject({ ok: true });
    expect(await v.verify(bearer(signToken(rotated, claims({ iss: issuer }))), [AUD])).toMatchObject({ ok: true });
  });

  it('does not refetch the JWKS for every unknown key id (at most once per interval)', async () => {
    const scope = nock(JWKS).get('/jwks').once().reply(200, { keys: [key.jwk] }, { 'cache-control': 'max-age=300' });
    const v = makePushVerifier(cfg);
    for (let i = 0; i < 3; i++) {
      expect(await v.verify(bearer(signToken(rotated, claims({ iss: issuer }))), [AUD])).toMatchObject({ ok: false, code: 'AUTH_UNKNOWN_KEY' });
    }
    expect(scope.isDone()).toBe(true);
  });

  it('rejects a Google-issued token when only the emulator issuer is trusted', async () => {
    nock(JWKS).get('/jwks').reply(200, { keys: [key.jwk] });
    expect(await makePushVerifier(cfg).verify(bearer(signToken(key, claims())), [AUD])).toMatchObject({ status: 403, code: 'AUTH_ISSUER' });
  });

  it('answers 503 when the JWKS cannot be fetched', async () => {
    nock(JWKS).get('/jwks').reply(503);
    expect(await makePushVerifier(cfg).verify(bearer(signToken(key, claims({ iss: issuer }))), [AUD])).toMatchObject({
      status: 503,
      code: 'AUTH_KEYS_UNAVAILABLE',
    });
  });
});

describe('requestAudiences', () => {
  it('outside Cloud Run, builds them from the address the connection arrived at (never Host), with localhost on loopback', () => {
    expect(socketAudiences('127.0.0.1', 8081, '/')).toEqual(['http://127.0.0.1:8081/', 'http://127.0.0.1:8081', 'http://localhost:8081/', 'http://localhost:8081']);
    expect(socketAudiences('::ffff:10.0.0.5', 8080, '/work')).toEqual(['http://10.0.0.5:8080/work']);
    expect(socketAudiences('::1', 8080, '/x')).toEqual(['http://[::1]:8080/x', 'http://localhost:8080/x']);
    expect(socketAudiences(undefined, undefined, '/')).toEqual([]);
  });

  it('offers the full URL, the URL without query, and the bare origin for /', () => {
    expect(requestAudiences('https', 'x.run.app', '/?a=1')).toEqual(['https://x.run.app/?a=1', 'https://x.run.app/', 'https://x.run.app']);
    expect(requestAudiences('https', 'x.run.app', '/work')).toEqual(['https://x.run.app/work']);
  });
});

describe('the app with auth on', () => {
  // On Cloud Run (K_SERVICE set): the default audience comes from Host, which its routing makes ours.
  const cfg = () => testConfig({ auth: defined({ ...google, audience: undefined, hostAudience: true }) as AuthConfig });

  it('answers 401 with WWW-Authenticate to a push without a token, without running the work, and counts it', async () => {
    const runner = scriptedRunner();
    const app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger: captureLogger().logger });
    const res = await app.inject({ method: 'POST', url: '/', payload: '{"payload":1}', headers: pushHeaders() });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toMatchObject({ error: { code: 'AUTH_MISSING' } });
    expect(runner.calls).toHaveLength(0);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('executor_auth_rejections_total{code="AUTH_MISSING"} 1');
    await app.close();
  });

  it('logs nothing a refused caller sent: no queue, task, trace or malformed-header warning', async () => {
    const runner = scriptedRunner();
    const { logger, raw } = captureLogger();
    const app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger });
    const headers = pushHeaders({ queue: 'caller-queue', task: 'caller-task', extra: { 'x-cloudtasks-taskretrycount': 'not-a-number', 'x-cloud-trace-context': 'abcdef0123456789abcdef0123456789/1' } });
    const res = await app.inject({ method: 'POST', url: '/', payload: '{"payload":1}', headers });
    expect(res.statusCode).toBe(401);
    const text = raw.join('\n');
    expect(text).toContain('AUTH_MISSING');
    for (const sent of ['caller-queue', 'caller-task', 'not-a-number', 'abcdef0123456789', 'malformed']) expect(text).not.toContain(sent);
    await app.close();
  });

  it('verifies the audience against the URL the push was sent to (behind a TLS proxy)', async () => {
    nock(GOOGLE).get(CERTS_PATH).times(2).reply(200, { [key.kid]: key.pem });
    const runner = scriptedRunner();
    const app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger: captureLogger().logger });
    const headers = { ...pushHeaders(), host: 'executor.example.test', 'x-forwarded-proto': 'https' };
    const ok = await app.inject({ method: 'POST', url: '/', payload: '{"payload":1}', headers: { ...headers, authorization: bearer(signToken(key, claims())) } });
    expect(ok.statusCode).toBe(200);
    const wrong = await app.inject({
      method: 'POST',
      url: '/',
      payload: '{"payload":1}',
      headers: { ...headers, authorization: bearer(signToken(key, claims({ aud: 'https://elsewhere.test/' }))) },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ error: { code: 'AUTH_AUDIENCE' } });
    expect(runner.calls).toHaveLength(1);
    await app.close();
  });

  it('answers 503 with Retry-After when the signing keys cannot be fetched, so Cloud Tasks retries', async () => {
    nock(GOOGLE).get(CERTS_PATH).times(5).reply(500, 'down');
    const runner = scriptedRunner();
    const app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger: captureLogger().logger });
    const res = await app.inject({ method: 'POST', url: '/', payload: '{"payload":1}', headers: { ...pushHeaders(), authorization: bearer(signToken(key, claims())) } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.json()).toMatchObject({ error: { code: 'AUTH_KEYS_UNAVAILABLE' } });
    expect(runner.calls).toHaveLength(0);
    await app.close();
  });

  it('takes the audience host from Host, not X-Forwarded-Host (no replay of another service\'s token)', async () => {
    nock(GOOGLE).get(CERTS_PATH).reply(200, { [key.kid]: key.pem });
    const runner = scriptedRunner();
    const app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger: captureLogger().logger });
    const res = await app.inject({
      method: 'POST',
      url: '/',
      payload: '{"payload":1}',
      headers: {
        ...pushHeaders(),
        host: 'victim.example.test',
        'x-forwarded-host': 'executor.example.test',
        'x-forwarded-proto': 'https',
        authorization: bearer(signToken(key, claims())),
      },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'AUTH_AUDIENCE' } });
    expect(runner.calls).toHaveLength(0);
    await app.close();
  });
});

describe('the default audience outside Cloud Run (no AUTH_AUDIENCE, no K_SERVICE)', () => {
  const cfg = () => testConfig({ auth: defined({ ...google, audience: undefined, hostAudience: false }) as AuthConfig });
  let app: ReturnType<typeof buildApp> | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function listen(): Promise<{ url: string; runner: ReturnType<typeof scriptedRunner> }> {
    const runner = scriptedRunner();
    app = buildApp({ config: cfg(), runner, tasks: { createTask: async () => [{}] }, logger: captureLogger().logger });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, runner };
  }

  it("refuses a token minted for another service even when the caller sets Host to that service (no replay)", async () => {
    serveGoogleCerts();
    const { url, runner } = await listen();
    // fetch cannot set Host; a raw request can, as an attacker would.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/`, {
        method: 'POST',
        headers: {
          ...pushHeaders(),
          host: 'other-service.example.test',
          'x-forwarded-proto': 'https',
          'content-type': 'application/json',
          authorization: bearer(signToken(key, claims({ aud: 'https://other-service.example.test/' }))),
        },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{"payload":1}');
    });
    expect(status).toBe(403);
    expect(runner.calls).toHaveLength(0);
  });

  it('accepts a token minted for the address the push arrived at', async () => {
    serveGoogleCerts();
    const { url, runner } = await listen();
    const res = await fetch(`${url}/`, {
      method: 'POST',
      body: '{"payload":1}',
      headers: { ...pushHeaders(), 'content-type': 'application/json', authorization: bearer(signToken(key, claims({ aud: `${url}/` }))) },
    });
    expect(res.status).toBe(200);
    expect(runner.calls).toHaveLength(1);
  });
});
