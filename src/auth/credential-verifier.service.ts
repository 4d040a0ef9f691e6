import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ErrorCode } from '../common/errors/error-code';
import { TicketService } from './tickets/ticket.service';
import { TokenVerifier } from './token/token-verifier.service';
import { MAX_TOKEN_BYTES, type TokenVerification } from './token/token-verifier.types';

/** Development-bypass sessions whose token has no `exp` last this long (seed 000 scenario 14). */
const DEV_BYPASS_SESSION_S = 12 * 3600;

/**
 * One entry point for "is this credential good?", wherever a token is accepted (agent:login, the
 * handshake, admin routes): a signalgate ticket, a Supabase token, or — in development with no key
 * source — a token that is decoded but not verified.
 */
@Injectable()
export class CredentialVerifier {
  constructor(
    private readonly tokens: TokenVerifier,
    private readonly tickets: TicketService,
    private readonly config: AppConfig,
  ) {}

  get devBypass(): boolean {
    return this.config.auth.devBypass;
  }

  async verify(credential: unknown): Promise<TokenVerification> {
    if (typeof credential !== 'string' || credential.length === 0) {
      return { ok: false, code: ErrorCode.AuthInvalidToken, reason: 'missing_token' };
    }
    // Refused before any parsing, whichever path would handle it (DESIGN §3).
    if (Buffer.byteLength(credential) > MAX_TOKEN_BYTES) {
      return { ok: false, code: ErrorCode.AuthInvalidToken, reason: 'oversized' };
    }
    if (this.tickets.looksLikeTicket(credential)) return this.tickets.redeem(credential);
    if (this.config.auth.devBypass) {
      // Seed 000 scenario 14: verification is skipped and the claimed agentId is what gets trusted,
      // so any string is accepted; a decodable JWT still lends its `sub`, `iat` and `exp`.
      const now = Math.floor(Date.now() / 1000);
      const claims = this.tokens.decodeUnverified(credential) ?? { sub: '', exp: 0, iat: now, raw: {} };
      const exp = claims.exp || now + DEV_BYPASS_SESSION_S;
      return { ok: true, source: 'dev_bypass', claims: { ...claims, exp } };
    }
    return this.tokens.verify(credential);
  }
}
