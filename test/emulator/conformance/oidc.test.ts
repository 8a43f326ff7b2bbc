// Pins the tokens the emulator puts on dispatched requests, verified for real with google-auth-library
// against the emulator's published keys.
// OidcToken reference: service_account_email "used for generating OIDC token"; audience "Audience to be
// used when generating OIDC token. If not specified, the URI specified in target will be used".
// Google-signed ID tokens carry iss, aud, email, email_verified, sub, iat and exp one hour after iat.
// OAuthToken: "an OAuth token will be generated and attached as an Authorization header" — the
// emulator has no Google to ask, so the bearer is a recognisable fake.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { header } from './helpers/receiver.js';

const SA = 'invoker@local-project.iam.gserviceaccount.com';

async function getJson(url: string): Promise<unknown> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return res.body.json();
}

/** The emulator's JWKS as the kid → PEM map OAuth2Client.verifySignedJwtWithCertsAsync takes. */
async function certsFrom(jwksUrl: string): Promise<Record<string, string>> {
  const jwks = (await getJson(jwksUrl)) as { keys: Array<JsonWebKey & { kid: string; alg?: string; use?: string }> };
  expect(jwks.keys.length).toBeGreaterThan(0);
  const certs: Record<string, string> = {};
  for (const key of jwks.keys) {
    expect(key.kty).toBe('RSA');
    certs[key.kid] = createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  }
  return certs;
}

function bearer(value: string | undefined): string {
  expect(value).toMatch(/^Bearer \S+$/);
  return value!.slice('Bearer '.length);
}

describe.concurrent.each(MODES)('OIDC and OAuth tokens (%s client)', (mode) => {
  let h: Harness;
  let certs: Record<string, string>;
  const auth = new OAuth2Client();
  beforeAll(async () => {
    h = await startHarness(mode);
    certs = await certsFrom(h.emulator.jwksUrl);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('publishes an OpenID configuration whose issuer and jwks_uri match the emulator', async () => {
    const config = (await getJson(`${h.emulator.issuer}/.well-known/openid-configuration`)) as Record<string, unknown>;
    expect(config.issuer).toBe(h.emulator.issuer);
    expect(config.jwks_uri).toBe(h.emulator.jwksUrl);
    expect(config.id_token_signing_alg_values_supported).toContain('RS256');
  });

  it('signs an RS256 token for the explicit audience that google-auth-library verifies', async () => {
    const queue = h.uniqueQueueId('oidc');
    await h.createQueue(queue);
    const path = `/oidc/${mode}`;
    await h.createTask(queue, { path, oidc: { serviceAccountEmail: SA, audience: 'https://my-service.example.run.app' } });
    const [req] = await h.receiver.waitFor(path, 1);
    const token = bearer(header(req!, 'authorization'));
    const [head] = token.split('.');
    expect(JSON.parse(Buffer.from(head!, 'base64url').toString())).toMatchObject({ alg: 'RS256', typ: 'JWT' });

    const ticket = await auth.verifySignedJwtWithCertsAsync(token, certs, 'https://my-service.example.run.app', [h.emulator.issuer]);
    const payload = ticket.getPayload()!;
    expect(payload.iss).toBe(h.emulator.issuer);
    expect(payload.aud).toBe('https://my-service.example.run.app');
    expect(payload.email).toBe(SA);
    expect(payload.email_verified).toBe(true);
    expect(payload.sub).toBeTruthy();
    expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(60);
    expect(payload.exp - payload.iat).toBeGreaterThanOrEqual(3600 - 5);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(3600 + 5);
  });

  it('uses the target URL as the audience when none is given', async () => {
    const queue = h.uniqueQueueId('oidc-default-aud');
    await h.createQueue(queue);
    const path = `/oidc-default/${mode}`;
    await h.createTask(queue, { path, oidc: { serviceAccountEmail: SA } });
    const [req] = await h.receiver.waitFor(path, 1);
    const token = bearer(header(req!, 'authorization'));
    const ticket = await auth.verifySignedJwtWithCertsAsync(token, certs, `${h.receiver.url}${path}`, [h.emulator.issuer]);
    expect(ticket.getPayload()!.aud).toBe(`${h.receiver.url}${path}`);
  });

  it('fails verification for another audience, another issuer or a tampered token', async () => {
    const queue = h.uniqueQueueId('oidc-negative');
    await h.createQueue(queue);
    const path = `/oidc-negative/${mode}`;
    await h.createTask(queue, { path, oidc: { serviceAccountEmail: SA, audience: 'https://right.example' } });
    const [req] = await h.receiver.waitFor(path, 1);
    const token = bearer(header(req!, 'authorization'));
    await expect(auth.verifySignedJwtWithCertsAsync(token, certs, 'https://wrong.example', [h.emulator.issuer])).rejects.toThrow();
    await expect(auth.verifySignedJwtWithCertsAsync(token, certs, 'https://right.example', ['https://accounts.google.com'])).rejects.toThrow();
    const [head, body, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, email: 'evil@example.com' })).toString('base64url')}.${sig}`;
    await expect(auth.verifySignedJwtWithCertsAsync(forged, certs, 'https://right.example', [h.emulator.issuer])).rejects.toThrow();
  });

  it('puts a verifiable token on retries too', async () => {
    const queue = h.uniqueQueueId('oidc-retry');
    await h.createQueue(queue, { retry: { minBackoff: 0.05, maxBackoff: 0.05 } });
    const path = `/oidc-retry/${mode}`;
    h.receiver.on(path, (i) => ({ status: i === 0 ? 500 : 200 }));
    await h.createTask(queue, { path, oidc: { serviceAccountEmail: SA } });
    const reqs = await h.receiver.waitFor(path, 2, 5000);
    for (const r of reqs) {
      const ticket = await auth.verifySignedJwtWithCertsAsync(bearer(header(r, 'authorization')), certs, `${h.receiver.url}${path}`, [h.emulator.issuer]);
      expect(ticket.getPayload()!.email).toBe(SA);
    }
  });

  it('sends a clearly fake bearer token for oauthToken, and no Authorization without a token', async () => {
    const queue = h.uniqueQueueId('oauth');
    await h.createQueue(queue);
    await h.createTask(queue, { path: `/oauth/${mode}`, oauth: { serviceAccountEmail: SA, scope: 'https://www.googleapis.com/auth/cloud-platform' } });
    await h.createTask(queue, { path: `/no-token/${mode}` });
    const [withOauth] = await h.receiver.waitFor(`/oauth/${mode}`, 1);
    const [without] = await h.receiver.waitFor(`/no-token/${mode}`, 1);
    expect(bearer(header(withOauth!, 'authorization')).length).toBeGreaterThan(0);
    expect(header(without!, 'authorization')).toBeUndefined();
  });
});
