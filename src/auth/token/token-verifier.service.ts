import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { types } from 'node:util';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  JSONWebKeySet,
  JWTPayload,
  jwtVerify,
  JWTVerifyGetKey,
  JWTVerifyOptions,
} from 'jose';
import { AppConfig } from '../../config/app-config';
import { ErrorCode } from '../../common/errors/error-code';
import {
  hasExpired,
  MAX_TOKEN_BYTES,
  TokenSource,
  TokenVerification,
  VerifiedClaims,
} from './token-verifier.types';

const ASYMMETRIC_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];
const SYMMETRIC_ALGORITHMS = ['HS256'];
/** Headers that would let a token choose its own verification key: never honoured. */
const UNTRUSTED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const CACHE_MAX_ENTRIES = 10_000;
const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type Failure = Extract<TokenVerification, { ok: false }>;
type KeySource = { source: TokenSource; algorithms: string[]; key: JWTVerifyGetKey | Uint8Array };

/**
 * Verifies Supabase-style access tokens (DESIGN §3) with jose. Key sources are chosen by the
 * header's algorithm, each with its own allow-list, so an HS256 token is never checked against a
 * public key (the classic key-confusion attack) and `alg: none` never verifies. Results are typed;
 * nothing is thrown for a bad token.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly symmetric: KeySource[];
  private readonly asymmetric: KeySource[];
  /** sha256(token) → claims, until the token's exp: a reconnecting dashboard does not pay twice. */
  private readonly cache = new Map<string, { claims: VerifiedClaims; source: TokenSource }>();
  private readonly options: JWTVerifyOptions;

  constructor(private readonly config: AppConfig) {
    const { auth } = config;
    this.symmetric = auth.jwtSecrets.map((secret) => ({
      source: 'hs256' as const,
      algorithms: SYMMETRIC_ALGORITHMS,
      key: new TextEncoder().encode(secret),
    }));
    this.asymmetric = [];
    if (auth.publicKeysFile) {
      this.asymmetric.push({
        source: 'jwks_file',
        algorithms: ASYMMETRIC_ALGORITHMS,
        key: createLocalJWKSet(readKeysFile(auth.publicKeysFile)),
      });
    }
    if (auth.jwksUrl) {
      this.asymmetric.push({
        source: 'jwks',
        algorithms: ASYMMETRIC_ALGORITHMS,
        key: createRemoteJWKSet(new URL(auth.jwksUrl), {
          timeoutDuration: auth.jwksTimeoutMs,
          cooldownDuration: auth.jwksCooldownMs,
          cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        }),
      });
    }
    this.options = {
      clockTolerance: auth.clockToleranceS,
      requiredClaims: ['exp', 'sub'],
      ...(auth.issuer ? { issuer: auth.issuer } : {}),
      ...(auth.audience ? { audience: auth.audience } : {}),
    };
  }

  get hasKeySource(): boolean {
    return this.symmetric.length + this.asymmetric.length > 0;
  }

  async verify(token: string): Promise<TokenVerification> {
    const shapeProblem = checkShape(token);
    if (shapeProblem) return shapeProblem;

    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(cacheKey);
    if (cached) {
      if (this.isExpired(cached.claims.exp)) {
        this.cache.delete(cacheKey);
        return invalid(ErrorCode.AuthExpired, 'expired');
      }
      return { ok: true, ...cached };
    }

    let alg: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (UNTRUSTED_HEADERS.some((name) => name in header))
        return invalid(ErrorCode.AuthInvalidToken, 'untrusted_header');
      alg = header.alg;
    } catch {
      return invalid(ErrorCode.AuthInvalidToken, 'malformed');
    }
    const sources =
      alg && SYMMETRIC_ALGORITHMS.includes(alg)
        ? this.symmetric
        : alg && ASYMMETRIC_ALGORITHMS.includes(alg)
          ? this.asymmetric
          : [];
    if (sources.length === 0) return invalid(ErrorCode.AuthInvalidToken, 'alg_not_allowed');

    let lastFailure: Failure = invalid(ErrorCode.AuthInvalidToken, 'bad_signature');
    for (const source of sources) {
      const result = await this.verifyWith(token, source);
      if (result.ok) {
        this.remember(cacheKey, result.claims, result.source);
        return result;
      }
      // A definite answer about the token itself (expired, wrong audience…) ends the search;
      // a key that does not match lets the next source (another secret, the remote JWKS) try.
      if (!['bad_signature', 'unknown_kid'].includes(result.reason)) return result;
      lastFailure = result;
    }
    return lastFailure;
  }

  /** Development fallback only: the token's claims without any verification. Never throws. */
  decodeUnverified(token: string): VerifiedClaims | null {
    if (typeof token !== 'string' || Buffer.byteLength(token) > MAX_TOKEN_BYTES) return null;
    try {
      const payload = decodeJwt(token);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0) return null;
      return toClaims(payload, typeof payload.exp === 'number' ? payload.exp : 0);
    } catch {
      return null;
    }
  }

  private async verifyWith(token: string, source: KeySource): Promise<TokenVerification> {
    try {
      const options = { ...this.options, algorithms: source.algorithms };
      // Two branches only because jose's overloads take a key or a key resolver, not their union.
      const { payload } =
        source.key instanceof Uint8Array
          ? await jwtVerify(token, source.key, options)
          : await jwtVerify(token, source.key, options);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0)
        return invalid(ErrorCode.AuthInvalidToken, 'missing_sub');
      if (typeof payload.exp !== 'number') return invalid(ErrorCode.AuthInvalidToken, 'missing_exp');
      return { ok: true, source: source.source, claims: toClaims(payload, payload.exp) };
    } catch (error) {
      return this.classify(error, source.source);
    }
  }

  private classify(error: unknown, source: TokenSource): Failure {
    if (error instanceof errors.JWTExpired) return invalid(ErrorCode.AuthExpired, 'expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      const reasons: Record<string, string> = {
        iss: 'wrong_issuer',
        aud: 'wrong_audience',
        nbf: 'not_yet_valid',
        iat: 'not_yet_valid',
      };
      if (error.reason === 'missing') return invalid(ErrorCode.AuthInvalidToken, `missing_${error.claim}`);
      return invalid(ErrorCode.AuthInvalidToken, reasons[error.claim] ?? 'invalid_claims');
    }
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return invalid(ErrorCode.AuthInvalidToken, 'bad_signature');
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      return invalid(ErrorCode.AuthInvalidToken, 'unknown_kid');
    }
    if (error instanceof errors.JOSEAlgNotAllowed)
      return invalid(ErrorCode.AuthInvalidToken, 'alg_not_allowed');
    if (source === 'jwks' && isJwksFetchFailure(error)) {
      // The key server did not answer: a server-side failure, not the client's bad token.
      this.logger.error(`remote JWKS unavailable: ${(error as Error).message}`);
      return { ok: false, code: ErrorCode.InternalError, reason: 'jwks_unavailable' };
    }
    return invalid(ErrorCode.AuthInvalidToken, 'malformed');
  }

  private isExpired(exp: number): boolean {
    return hasExpired(exp, this.config.auth.clockToleranceS, Date.now());
  }

  private remember(key: string, claims: VerifiedClaims, source: TokenSource): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { claims, source });
  }
}

function checkShape(token: unknown): Failure | null {
  if (typeof token !== 'string' || token.length === 0)
    return invalid(ErrorCode.AuthInvalidToken, 'missing_token');
  // Refused before any parsing: an attacker must not make us decode megabytes.
  if (token.length > MAX_TOKEN_BYTES || Buffer.byteLength(token) > MAX_TOKEN_BYTES) {
    return invalid(ErrorCode.AuthInvalidToken, 'oversized');
  }
  if (!JWT_SHAPE.test(token)) return invalid(ErrorCode.AuthInvalidToken, 'malformed');
  return null;
}

function isJwksFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  // jose throws its base JOSEError (never a subclass) only from the JWKS fetcher: a non-200
  // answer or a body that is not JSON. Every subclass is a verdict about the token itself.
  if (error instanceof errors.JOSEError) return error.constructor === errors.JOSEError;
  // fetch() network failures (connection refused, DNS, timeouts) surface as plain errors, possibly
  // from another realm (undici's TypeError), so `instanceof Error` is not enough.
  return types.isNativeError(error);
}

function invalid(code: Failure['code'], reason: string): Failure {
  return { ok: false, code, reason };
}

function toClaims(payload: JWTPayload, exp: number): VerifiedClaims {
  return {
    sub: payload.sub as string,
    exp,
    iat: typeof payload.iat === 'number' ? payload.iat : 0,
    raw: payload,
  };
}

function readKeysFile(path: string): JSONWebKeySet {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
    return parsed;
  } catch (error) {
    throw new Error(`AUTH_PUBLIC_KEYS_FILE ${path}: not a readable JWKS file (${(error as Error).message})`);
  }
}
