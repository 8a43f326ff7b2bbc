/**
 * Test OIDC tokens: a locally generated RSA key signs JWTs the way Google signs Cloud Tasks' tokens,
 * and its public half is served (through nock) as Google's PEM certificates or as a JWKS.
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A signing key with its id and public forms. */
export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  /** SPKI PEM, the shape of Google's v1 certs endpoint values. */
  pem: string;
  /** The public key as a JWK (with kid, alg, use). */
  jwk: Record<string, unknown>;
}

/** Generates an RSA key for signing test tokens. */
export function makeTestKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
  };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Claims of a valid Cloud Tasks token, relative to now. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://accounts.google.com',
    aud: 'https://executor.example.test/',
    sub: '1234567890',
    email: 'tasks@test-project.iam.gserviceaccount.com',
    email_verified: true,
    iat: now - 10,
    exp: now + 3600,
    ...overrides,
  };
}

/** Signs a JWT with RS256 (or builds an unsigned `alg: none` one). */
export function signToken(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = { alg: 'RS256', typ: 'JWT', kid: key.kid, ...header };
  const signingInput = `${b64(h)}.${b64(payload)}`;
  if (h.alg === 'none') return `${signingInput}.`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key.privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}
