/**
 * The verified-token cache of the push verifier: a repeated token skips only the signature check;
 * audience, issuer, expiry, key rotation and the email rules still decide every push.
 */
import { OAuth2Client } from 'google-auth-library';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthConfig } from '../../src/config.js';
import { makePushVerifier, type VerifierOptions } from '../../src/executor/auth.js';
import { claims, makeTestKey, signToken } from '../helpers/oidc.js';

const JWKS = 'https://emulator.example.test';
const ISSUER = 'https://emulator.example.test';
const AUD = 'https://executor.example.test/';
const SA = 'tasks@test-project.iam.gserviceaccount.com';
const cfg: AuthConfig = { disabled: false, allowedEmails: [SA], issuers: [ISSUER], audience: AUD, jwksUrl: `${JWKS}/jwks` };

const key = makeTestKey('key-1');
const rotated = makeTestKey('key-2');
const bearer = (token: string) => `Bearer ${token}`;

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  vi.useRealTimers();
});
afterAll(() => {
  nock.enableNetConnect();
});

/** A verifier whose signature checks are counted. */
function countingVerifier(options: VerifierOptions = {}) {
  const client = new OAuth2Client();
  const verify = vi.spyOn(client, 'verifySignedJwtWithCertsAsync');
  return { verifier: makePushVerifier(cfg, { oauthClient: client, ...options }), verify };
}

const serveKeys = (keys = [key.jwk], maxAge = 3600) => nock(JWKS).get('/jwks').reply(200, { keys }, { 'cache-control': `max-age=${maxAge}` });

describe('the verified-token cache', () => {
  it('verifies the signature of a repeated token once and accepts it every time', async () => {
    serveKeys();
    const { verifier, verify } = countingVerifier();
    const token = bearer(signToken(key, claims({ iss: ISSUER })));
    for (let i = 0; i < 5; i++) expect(await verifier.verify(token, [AUD])).toEqual({ ok: true, email: SA });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('still refuses a cached token pushed to another audience, and accepts it again at its own', async () => {
    serveKeys();
    const { verifier, verify } = countingVerifier();
    const token = bearer(signToken(key, claims({ iss: ISSUER })));
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: true });
    expect(await verifier.verify(token, ['https://other-service.example.test/'])).toMatchObject({ ok: false, status: 403, code: 'AUTH_AUDIENCE' });
    expect(await verifier.verify(token, ['https://a.example.test/', AUD])).toMatchObject({ ok: true });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['an account not on the allow-list', { email: 'someone@else.iam.gserviceaccount.com' }, 'AUTH_EMAIL_NOT_ALLOWED'],
    ['an unverified email', { email_verified: false }, 'AUTH_EMAIL_UNVERIFIED'],
  ])('refuses a well-signed token for %s on every push, cached or not', async (_name, overrides, code) => {
    serveKeys();
    const { verifier } = countingVerifier();
    const token = bearer(signToken(key, claims({ iss: ISSUER, ...overrides })));
    for (let i = 0; i < 3; i++) expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: false, status: 403, code });
  });

  it('refuses a cached token once it has expired (beyond the clock-skew allowance)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    serveKeys();
    const { verifier } = countingVerifier();
    const now = Math.floor(start / 1000);
    const token = bearer(signToken(key, claims({ iss: ISSUER, iat: now - 10, exp: now + 60 })));
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: true });
    vi.setSystemTime(start + 30_000);
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: true });
    vi.setSystemTime(start + (60 + 301) * 1000);
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: false, status: 403, code: 'AUTH_EXPIRED' });
  });

  it('verifies a cached token afresh once its key is rotated out of the key set', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    serveKeys([key.jwk], 60);
    serveKeys([rotated.jwk], 60);
    const { verifier, verify } = countingVerifier();
    const token = bearer(signToken(key, claims({ iss: ISSUER })));
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: true });
    // The key set expires and the issuer now publishes only the new key.
    vi.setSystemTime(start + 61_000);
    expect(await verifier.verify(token, [AUD])).toMatchObject({ ok: false, status: 403, code: 'AUTH_UNKNOWN_KEY' });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('keeps at most tokenCacheSize tokens, forgetting the least recently used', async () => {
    serveKeys();
    const { verifier, verify } = countingVerifier({ tokenCacheSize: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => bearer(signToken(key, claims({ iss: ISSUER, sub }))));
    for (const t of [a!, b!, a!, c!]) expect(await verifier.verify(t, [AUD])).toMatchObject({ ok: true });
    expect(verify).toHaveBeenCalledTimes(3);
    // b was the least recently used when c arrived: it is verified again; a is still cached.
    await verifier.verify(b, [AUD]);
    expect(verify).toHaveBeenCalledTimes(4);
    await verifier.verify(c, [AUD]);
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('does not cache when tokenCacheSize is 0', async () => {
    serveKeys();
    const { verifier, verify } = countingVerifier({ tokenCacheSize: 0 });
    const token = bearer(signToken(key, claims({ iss: ISSUER })));
    await verifier.verify(token, [AUD]);
    await verifier.verify(token, [AUD]);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('does not let a cached token vouch for a tampered copy', async () => {
    serveKeys();
    const { verifier } = countingVerifier();
    const token = signToken(key, claims({ iss: ISSUER }));
    expect(await verifier.verify(bearer(token), [AUD])).toMatchObject({ ok: true });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ iss: ISSUER, email: 'evil@x.test' }))).toString('base64url')}.${s}`;
    expect(await verifier.verify(bearer(forged), [AUD])).toMatchObject({ ok: false, code: 'AUTH_SIGNATURE' });
  });
});
