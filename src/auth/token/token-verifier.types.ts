import { ErrorCode } from '../../common/errors/error-code';

/** Claims signalgate relies on after verification. */
export interface VerifiedClaims {
  sub: string;
  /** epoch seconds */
  exp: number;
  /** epoch seconds; used for revocation checks (0 when the token had none). */
  iat: number;
  /** Every claim of the token, for logging-free inspection (never authorise on user_metadata). */
  raw: Readonly<Record<string, unknown>>;
}

/** Which key source verified the token (metrics label `method`). */
export type TokenSource = 'hs256' | 'jwks' | 'jwks_file' | 'ticket' | 'dev_bypass';

export type TokenVerification =
  | { ok: true; claims: VerifiedClaims; source: TokenSource }
  | {
      ok: false;
      /** AUTH_INVALID_TOKEN / AUTH_EXPIRED for the client's fault; INTERNAL_ERROR (reason `jwks_unavailable`) when a key server does not answer. */
      code: typeof ErrorCode.AuthInvalidToken | typeof ErrorCode.AuthExpired | typeof ErrorCode.InternalError;
      /** snake_case reason for the audit record: malformed, oversized, bad_signature, expired, not_yet_valid, wrong_issuer, wrong_audience, missing_sub, missing_exp, unknown_kid, alg_not_allowed, jwks_unavailable… */
      reason: string;
    };

/** Tokens over this size are refused before any parsing (DESIGN §3). */
export const MAX_TOKEN_BYTES = 8 * 1024;

/**
 * The one expiry rule, shared by the verifier's cache and live sessions, matching jose's own check:
 * expired once the whole-second clock reaches `exp + tolerance`.
 */
export function hasExpired(expSeconds: number, toleranceS: number, nowMs: number): boolean {
  return Math.floor(nowMs / 1000) >= expSeconds + toleranceS;
}
