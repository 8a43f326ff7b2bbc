import { createHash, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A JSON Web Key as published in the emulator's JWKS. */
export interface Jwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

/** Claims of the OIDC tokens the emulator signs (the shape Google puts in service-account ID tokens). */
export interface OidcClaims {
  iss: string;
  aud: string;
  azp: string;
  sub: string;
  email: string;
  email_verified: true;
  iat: number;
  exp: number;
}

const TOKEN_LIFETIME_S = 3600;
// Re-signing per push would cost ~1 ms of CPU each (RSA), so a token is reused for a while, as
// Google's own token cache does; it still has more than 50 minutes left when handed out.
const TOKEN_REUSE_S = 600;

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/**
 * The emulator's OIDC identity: an RSA key generated at startup, RS256 ID tokens for service
 * accounts, and the discovery documents (openid-configuration, JWKS) that let google-auth-library
 * or any OIDC verifier check the signatures for real.
 */
export class OidcSigner {
  /** Key id published in the JWKS and put in each token header. */
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly jwk: Jwk;
  private readonly cache = new Map<string, { token: string; iat: number }>();

  /** The `iss` of every token. */
  issuer: string;
  /** Where the JWKS is served (advertised as jwks_uri). */
  jwksUrl: string;

  constructor(issuer = '', jwksUrl = '') {
    this.issuer = issuer;
    this.jwksUrl = jwksUrl;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const pub = publicKey.export({ format: 'jwk' });
    this.kid = createHash('sha256').update(String(pub.n)).digest('hex').slice(0, 40);
    this.jwk = { kty: 'RSA', n: String(pub.n), e: String(pub.e), kid: this.kid, alg: 'RS256', use: 'sig' };
  }

  /**
   * Sets the issuer and JWKS URL (known only once the server listens); forgets cached tokens.
   */
  setIssuer(issuer: string, jwksUrl: string): void {
    this.issuer = issuer;
    this.jwksUrl = jwksUrl;
    this.cache.clear();
  }

  /** The JWKS document (`{ keys: [...] }`). */
  jwks(): { keys: Jwk[] } {
    return { keys: [this.jwk] };
  }

  /** The OpenID Provider discovery document. */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUrl,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'azp', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub'],
    };
  }

  /** A signed ID token for `serviceAccountEmail` with audience `audience` (cached for reuse). */
  token(serviceAccountEmail: string, audience: string, nowMs = Date.now()): string {
    const now = Math.floor(nowMs / 1000);
    const key = `${serviceAccountEmail}\n${audience}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.iat < TOKEN_REUSE_S) return hit.token;
    const claims: OidcClaims = {
      iss: this.issuer,
      aud: audience,
      azp: subjectFor(serviceAccountEmail),
      sub: subjectFor(serviceAccountEmail),
      email: serviceAccountEmail,
      email_verified: true,
      iat: now,
      exp: now + TOKEN_LIFETIME_S,
    };
    const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: this.kid }))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.privateKey);
    const token = `${signingInput}.${b64url(signature)}`;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { token, iat: now });
    return token;
  }
}

/** Google identifies a service account by a 21-digit number; derive a stable one from the email. */
export function subjectFor(email: string): string {
  const digest = createHash('sha256').update(email).digest();
  return `1${digest.readBigUInt64BE(0).toString().padStart(20, '0').slice(0, 20)}`;
}

/**
 * The bearer token for tasks with `oauthToken`: the emulator cannot mint Google access tokens, so it
 * sends one that is obviously fake and tells the receiver who it stands for.
 */
export function fakeOauthToken(serviceAccountEmail: string): string {
  return `emulator-fake-oauth-token.${b64url(serviceAccountEmail)}`;
}
