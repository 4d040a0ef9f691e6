import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { ErrorCode } from '../../common/errors/error-code';
import type { TokenVerification, VerifiedClaims } from '../token/token-verifier.types';
import { RedeemedTickets } from './redeemed-tickets';

export const TICKET_ISSUER = 'signalgate:ws-ticket';
const TICKET_AUDIENCE = 'signalgate:ws';
export const TICKET_TTL_SECONDS = 60;

interface TicketPayload {
  sub: string;
  /** The exchanged token's expiry and issue time: a ticket never extends a session. */
  sexp: number;
  siat: number;
  jti: string;
}

/**
 * Short-lived, single-use tickets (DESIGN §3): a dashboard exchanges its Supabase token over HTTPS
 * and puts only the 60-second ticket in the Socket.IO URL. Signed with the server's own secret;
 * redeemed ids are remembered (RedeemedTickets: across every instance when they share Redis)
 * until the ticket would have expired anyway.
 */
@Injectable()
export class TicketService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly redeemed: RedeemedTickets,
  ) {}

  async issue(claims: VerifiedClaims): Promise<{ ticket: string; expiresIn: number; jti: string }> {
    const jti = randomUUID();
    const payload: TicketPayload = { sub: claims.sub, sexp: claims.exp, siat: claims.iat, jti };
    const ticket = await this.jwt.signAsync(payload, {
      secret: this.config.ticketSecret,
      algorithm: 'HS256',
      issuer: TICKET_ISSUER,
      audience: TICKET_AUDIENCE,
      expiresIn: TICKET_TTL_SECONDS,
    });
    return { ticket, expiresIn: TICKET_TTL_SECONDS, jti };
  }

  /** Cheap pre-check (no signature work) so the verifier knows which path a credential takes. */
  looksLikeTicket(token: string): boolean {
    try {
      const decoded: unknown = this.jwt.decode(token);
      return (
        typeof decoded === 'object' &&
        decoded !== null &&
        (decoded as { iss?: unknown }).iss === TICKET_ISSUER
      );
    } catch {
      return false;
    }
  }

  /** Verifies and consumes a ticket. A second redemption is refused like any bad token. */
  async redeem(ticket: string, nowMs = Date.now()): Promise<TokenVerification> {
    let payload: TicketPayload & { exp: number };
    try {
      payload = await this.jwt.verifyAsync(ticket, {
        secret: this.config.ticketSecret,
        algorithms: ['HS256'],
        issuer: TICKET_ISSUER,
        audience: TICKET_AUDIENCE,
        clockTimestamp: Math.floor(nowMs / 1000),
      });
    } catch (error) {
      const expired = (error as Error).name === 'TokenExpiredError';
      return {
        ok: false,
        code: ErrorCode.AuthInvalidToken,
        reason: expired ? 'ticket_expired' : 'invalid_ticket',
      };
    }
    const forgetAtMs = (payload.exp + this.config.auth.clockToleranceS) * 1000;
    if (!(await this.redeemed.claim(payload.jti, forgetAtMs, nowMs)))
      return { ok: false, code: ErrorCode.AuthInvalidToken, reason: 'ticket_reused' };
    if (payload.sexp * 1000 <= nowMs - this.config.auth.clockToleranceS * 1000) {
      return { ok: false, code: ErrorCode.AuthExpired, reason: 'expired' };
    }
    return {
      ok: true,
      source: 'ticket',
      claims: { sub: payload.sub, exp: payload.sexp, iat: payload.siat, raw: { sub: payload.sub } },
    };
  }
}
