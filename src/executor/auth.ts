/**
 * Inbound authentication of pushes: the OIDC token Cloud Tasks attaches (`Authorization: Bearer`).
 * Verification is google-auth-library's: signature against the issuer's keys, issuer, expiry and
 * audience; then this module checks `email_verified` and the allow-list. Keys are Google's
 * certificates by default, or a JWKS (AUTH_JWKS_URL, e.g. an emulator's) converted to PEM.
 *
 * Outcomes: 401 when no token is presented, 403 when a token is presented and wrong, 503 when the
 * keys cannot be fetched (not the pusher's fault: Cloud Tasks will retry).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import type { AuthConfig } from '../config.js';
import { PUSH_ERROR_STATUS, type PushErrorCode } from '../errors.js';

/** The codes an auth check refuses a push with. */
export type AuthCode = Extract<PushErrorCode, `AUTH_${string}`>;

/** Why a push was refused; `code` is stable, for logs and metrics; its status comes from the registry. */
export interface AuthRejection {
  ok: false;
  status: (typeof PUSH_ERROR_STATUS)[AuthCode];
  code: AuthCode;
  /** Safe to log and to return: never contains the token. */
  reason: string;
}

/** A verified caller. */
export interface AuthSuccess {
  ok: true;
  /** The token's verified service-account email; undefined when auth is disabled. */
  email?: string;
}

/** Verifies the `Authorization` header of a push. */
export interface PushVerifier {
  /**
   * @param authorization the raw header
   * @param audiences the audiences accepted for this request (the configured one, or the URLs the
   *   request may have been addressed to)
   */
  verify(authorization: string | undefined, audiences: readonly string[]): AuthSuccess | AuthRejection | Promise<AuthSuccess | AuthRejection>;
}

/** Signing algorithms Google and Cloud Tasks emulators use; anything else (notably `none`) is refused. */
const ALGORITHMS = new Set(['RS256', 'ES256']);

/** How long JWKS keys are kept when the response names no max-age. */
const DEFAULT_JWKS_TTL_MS = 5 * 60_000;
/** A token with an unknown `kid` triggers a refetch (key rotation), at most this often. */
const JWKS_REFETCH_MIN_MS = 30_000;

type Certs = Record<string, string>;

/** Fetches and caches an issuer's JWKS as PEM public keys keyed by `kid`. */
function makeJwksSource(
  url: string,
  fetchImpl: typeof fetch = fetch,
  refetchMinMs = JWKS_REFETCH_MIN_MS,
): { get(refresh: boolean): Promise<Certs>; current(now: number): Certs | undefined } {
  let cached: { certs: Certs; expires: number; fetchedAt: number } | undefined;
  let inflight: Promise<Certs> | undefined;

  async function load(): Promise<Certs> {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error(`JWKS ${url} has no keys array`);
    const certs: Certs = {};
    for (const key of body.keys as (JsonWebKey & { kid?: string; use?: string })[]) {
      if (typeof key.kid !== 'string' || (key.use !== undefined && key.use !== 'sig')) continue;
      try {
        certs[key.kid] = createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      } catch {
        // A key we cannot use (unsupported type) must not hide the others.
      }
    }
    const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1];
    const now = Date.now();
    cached = { certs, fetchedAt: now, expires: now + (maxAge !== undefined ? Number(maxAge) * 1000 : DEFAULT_JWKS_TTL_MS) };
    return certs;
  }

  return {
    async get(refresh) {
      const now = Date.now();
      const fresh = cached !== undefined && now < cached.expires && !(refresh && now - cached.fetchedAt >= refetchMinMs);
      if (fresh) return cached!.certs;
      inflight ??= load().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    /** The keys at hand, while fresh: what a cached token is checked against without waiting. */
    current(now) {
      return cached !== undefined && now < cached.expires ? cached.certs : undefined;
    },
  };
}

/**
 * How long Google's certificates, once fetched, are used for cached tokens without asking
 * google-auth-library again (it caches them for hours itself, by their Cache-Control): a rotated
 * key voids the cached tokens it signed within this long.
 */
const GOOGLE_CERTS_AT_HAND_MS = 60_000;

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Maps google-auth-library's error messages (which quote the token) to safe, coded reasons. */
function classify(message: string): Pick<AuthRejection, 'code' | 'reason'> {
  if (message.startsWith('No pem found')) return { code: 'AUTH_UNKNOWN_KEY', reason: 'token is signed with an unknown key' };
  if (message.startsWith('Invalid token signature')) return { code: 'AUTH_SIGNATURE', reason: 'token signature is invalid' };
  if (message.startsWith('Token used too late')) return { code: 'AUTH_EXPIRED', reason: 'token has expired' };
  if (message.startsWith('Token used too early')) return { code: 'AUTH_NOT_YET_VALID', reason: 'token is not valid yet' };
  if (message.startsWith('Expiration time too far')) return { code: 'AUTH_INVALID', reason: 'token lifetime is too long' };
  if (message.startsWith('Invalid issuer')) return { code: 'AUTH_ISSUER', reason: 'token issuer is not trusted' };
  if (message.startsWith('Wrong recipient')) return { code: 'AUTH_AUDIENCE', reason: 'token audience does not match this service' };
  if (message.startsWith('No issue time') || message.startsWith('No expiration time')) {
    return { code: 'AUTH_INVALID', reason: 'token lacks iat or exp' };
  }
  return { code: 'AUTH_INVALID', reason: 'token is invalid' };
}

const reject = (code: AuthCode, reason: string): AuthRejection => ({ ok: false, status: PUSH_ERROR_STATUS[code], code, reason });

/**
 * RFC 7519 §4.1.5: a token must not be accepted before its `nbf`, with the clock skew allowed for
 * `exp`. google-auth-library checks `iat` and `exp` but not `nbf`. Checked once, at verification: a
 * token in the cache has passed it, and time only moves forward.
 */
function checkNotBefore(payload: Record<string, unknown>, nowMs: number): AuthRejection | undefined {
  if (payload.nbf === undefined) return undefined;
  if (typeof payload.nbf !== 'number' || !Number.isFinite(payload.nbf)) return reject('AUTH_INVALID', 'token nbf is not a number');
  return nowMs / 1000 + CLOCK_SKEW_SECONDS < payload.nbf ? reject('AUTH_NOT_YET_VALID', 'token is not valid yet') : undefined;
}

/** Options for {@link makePushVerifier}; tests inject these. */
export interface VerifierOptions {
  /** Client used for Google's certificates and the JWT checks. */
  oauthClient?: OAuth2Client;
  /** fetch used for AUTH_JWKS_URL. */
  fetch?: typeof fetch;
  /** Minimum time between JWKS refetches triggered by unknown key ids (default 30 s). */
  jwksRefetchMinMs?: number;
  /** Verified tokens remembered (default {@link TOKEN_CACHE_SIZE}; 0 turns the cache off). */
  tokenCacheSize?: number;
}

/** Verified tokens a verifier remembers; Cloud Tasks reuses one token for many pushes. */
const TOKEN_CACHE_SIZE = 1000;

/** google-auth-library's allowance for clock skew when it checks `exp`, applied to cached tokens too. */
const CLOCK_SKEW_SECONDS = 300;

/** A token whose signature was verified: its claims and the key that verified it. */
interface VerifiedToken {
  payload: Record<string, unknown>;
  /** The email checks' verdict on `payload` (allow-list and `email_verified`), which a push cannot change. */
  verdict: AuthSuccess | AuthRejection;
  /** The `kid` and key (PEM) it was verified with: when the issuer rotates that key away, the entry is void. */
  kid: string;
  cert: string;
  /** `exp` in milliseconds since the epoch; the entry is dropped from then on. */
  expiresAtMs: number;
}

/**
 * A bounded LRU of verified tokens, keyed by the whole `Authorization` header that carried the token
 * (so a hit needs no parsing of it). Safe because a signature over
 * the same bytes cannot change: what is skipped on a hit is only the RSA/ECDSA verification (and the
 * PEM parse); issuer, audience, expiry and the email checks still run against the cached claims on
 * every push, and an entry dies at the token's `exp` or when its key leaves the issuer's key set.
 */
function makeTokenCache(max: number) {
  const entries = new Map<string, VerifiedToken>();
  return {
    get(token: string, now: number): VerifiedToken | undefined {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (now >= entry.expiresAtMs) {
        entries.delete(token);
        return undefined;
      }
      // Refresh its place: the least recently used entry is the one evicted.
      entries.delete(token);
      entries.set(token, entry);
      return entry;
    },
    set(token: string, entry: VerifiedToken): void {
      if (max <= 0) return;
      entries.delete(token);
      entries.set(token, entry);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
    delete(token: string): void {
      entries.delete(token);
    },
  };
}

/**
 * Builds the verifier for an auth configuration. (Long because it is a closure: the key source,
 * the token cache and the checks share one configuration; each inner step is short.)
 */
export function makePushVerifier(config: AuthConfig, options: VerifierOptions = {}): PushVerifier {
  if (config.disabled) return { verify: () => ({ ok: true }) };
  const client = options.oauthClient ?? new OAuth2Client();
  const jwks = config.jwksUrl !== undefined ? makeJwksSource(config.jwksUrl, options.fetch, options.jwksRefetchMinMs) : undefined;
  let google: { certs: Certs; at: number } | undefined;
  const certs = async (refresh: boolean): Promise<Certs> => {
    if (jwks !== undefined) return jwks.get(refresh);
    const fetched = (await client.getFederatedSignonCertsAsync()).certs as Certs;
    google = { certs: fetched, at: Date.now() };
    return fetched;
  };
  /** The keys at hand without waiting, or undefined when they must be fetched (or asked for) first. */
  const certsNow = (now: number): Certs | undefined =>
    jwks !== undefined ? jwks.current(now) : google !== undefined && now - google.at < GOOGLE_CERTS_AT_HAND_MS ? google.certs : undefined;
  const allowed = new Set(config.allowedEmails.map((e) => e.toLowerCase()));
  const issuers = [...config.issuers];
  const cache = makeTokenCache(options.tokenCacheSize ?? TOKEN_CACHE_SIZE);

  /** The claims checks google-auth-library makes after the signature, for a cached token. */
  function checkCachedClaims(payload: Record<string, unknown>, audiences: readonly string[], nowMs: number): AuthRejection | undefined {
    if (nowMs / 1000 > Number(payload.exp) + CLOCK_SKEW_SECONDS) return reject('AUTH_EXPIRED', 'token has expired');
    if (!issuers.includes(payload.iss as string)) return reject('AUTH_ISSUER', 'token issuer is not trusted');
    if (!audiences.includes(payload.aud as string)) return reject('AUTH_AUDIENCE', 'token audience does not match this service');
    return undefined;
  }

  function checkEmail(payload: Record<string, unknown>): AuthSuccess | AuthRejection {
    const verified = payload.email_verified === true || payload.email_verified === 'true';
    if (!verified) return reject('AUTH_EMAIL_UNVERIFIED', 'token email is not verified');
    const email = typeof payload.email === 'string' ? payload.email : undefined;
    if (email === undefined || !allowed.has(email.toLowerCase())) {
      return reject('AUTH_EMAIL_NOT_ALLOWED', 'token email is not allowed to push to this service');
    }
    return { ok: true, email };
  }

  /** A cached token's verdict once its key is known to be current: only the claims a push can change are checked. */
  function cachedVerdict(hit: VerifiedToken, audiences: readonly string[], now: number): AuthSuccess | AuthRejection {
    return checkCachedClaims(hit.payload, audiences, now) ?? hit.verdict;
  }

  /** A cache hit whose issuer keys are not at hand: wait for them, then check as a hit, or verify afresh. */
  async function verifyHitLater(authorization: string, hit: VerifiedToken, audiences: readonly string[], now: number): Promise<AuthSuccess | AuthRejection> {
    let keys: Certs | undefined;
    try {
      keys = await certs(false);
    } catch {
      keys = undefined;
    }
    // Still signed by a current key: only the claims need checking. Otherwise verify afresh.
    if (keys !== undefined && keys[hit.kid] === hit.cert) return cachedVerdict(hit, audiences, now);
    cache.delete(authorization);
    return verifyFresh(authorization, audiences, now);
  }

  /** The full check: the token's signature against the issuer's keys, its claims, then the email rules. */
  async function verifyFresh(authorization: string, audiences: readonly string[], now: number): Promise<AuthSuccess | AuthRejection> {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
    if (match === null) return reject('AUTH_MISSING', 'Authorization: Bearer <OIDC token> is required');
    const token = match[1]!;
    const segments = token.split('.');
    const header = segments.length === 3 ? decodeSegment(segments[0]!) : undefined;
    if (header === undefined) return reject('AUTH_MALFORMED', 'bearer token is not a JWT');
    if (typeof header.alg !== 'string' || !ALGORITHMS.has(header.alg)) {
      return reject('AUTH_ALGORITHM', `token algorithm ${JSON.stringify(header.alg ?? null).slice(0, 20)} is not accepted`);
    }

    // RFC 7515 §4.1.11: a recipient must refuse a token whose `crit` names extensions it does
    // not understand; this service understands none, so any `crit` is refused.
    if (header.crit !== undefined) return reject('AUTH_INVALID', 'token has critical header extensions this service does not understand');

    let keys: Certs;
    try {
      keys = await certs(false);
      if (typeof header.kid === 'string' && !(header.kid in keys) && jwks !== undefined) keys = await certs(true);
    } catch {
      return reject('AUTH_KEYS_UNAVAILABLE', 'signing keys could not be fetched; retry later');
    }

    let payload: Record<string, unknown> | undefined;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(token, keys, audiences.length === 1 ? audiences[0] : [...audiences], issuers);
      payload = ticket.getPayload() as Record<string, unknown> | undefined;
    } catch (err) {
      const { code, reason } = classify(err instanceof Error ? err.message : '');
      return reject(code, reason);
    }
    if (payload === undefined) return reject('AUTH_INVALID', 'token has no payload');
    const notBefore = checkNotBefore(payload, now);
    if (notBefore !== undefined) return notBefore;
    // The signature is good (and the library checked exp numerically): remember it. The key is
    // the one the library verified with (it requires `kid` to name a key in this set).
    const verdict = checkEmail(payload);
    const kid = header.kid;
    const cert = typeof kid === 'string' ? keys[kid] : undefined;
    if (typeof kid === 'string' && cert !== undefined) cache.set(authorization, { payload, verdict, kid, cert, expiresAtMs: Number(payload.exp) * 1000 });
    return verdict;
  }

  return {
    /**
     * Synchronous for a cached token whose issuer keys are at hand (the common case: Cloud Tasks
     * reuses one token for many pushes), so such a push waits for nothing.
     */
    verify(authorization, audiences) {
      if (authorization === undefined) return reject('AUTH_MISSING', 'Authorization: Bearer <OIDC token> is required');
      const now = Date.now();
      const hit = cache.get(authorization, now);
      if (hit === undefined) return verifyFresh(authorization, audiences, now);
      const keys = certsNow(now);
      if (keys === undefined) return verifyHitLater(authorization, hit, audiences, now);
      if (keys[hit.kid] === hit.cert) return cachedVerdict(hit, audiences, now);
      cache.delete(authorization);
      return verifyFresh(authorization, audiences, now);
    },
  };
}

/**
 * The audiences a push may carry when none is configured: Cloud Tasks uses the task's target URL,
 * which may or may not include the query, and a bare origin when the path is `/`.
 */
export function requestAudiences(proto: string, host: string, url: string): string[] {
  const origin = `${proto}://${host}`;
  const q = url.indexOf('?');
  const pathOnly = q === -1 ? url : url.slice(0, q);
  const out = new Set([`${origin}${url}`, `${origin}${pathOnly}`]);
  if (pathOnly === '/' || pathOnly === '') out.add(origin);
  return [...out];
}

/**
 * The audiences a push may carry when none is configured and Host cannot be trusted (outside Cloud
 * Run): the request URL built from the address the connection actually arrived at, which the
 * caller cannot choose, plus `localhost` on loopback. A Host header naming another service (a
 * replayed token) changes nothing.
 */
export function socketAudiences(localAddress: string | undefined, localPort: number | undefined, url: string): string[] {
  if (localAddress === undefined || localPort === undefined) return [];
  const address = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  const hosts = [address.includes(':') ? `[${address}]` : address];
  if (address === '::1' || address.startsWith('127.')) hosts.push('localhost');
  return hosts.flatMap((host) => requestAudiences('http', `${host}:${localPort}`, url));
}
