import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DEFAULT_MESSAGES, ErrorCode } from '../common/errors/error-code';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { LoginAttemptLimiter } from '../common/throttling/login-attempt-limiter.service';
import type { SocketData } from '../common/socket/socket-data';
import { socketSource } from '../common/socket/socket-source';
import { AgentAuthService } from './agent-auth.service';
import { CredentialVerifier } from './credential-verifier.service';
import { AgentDirectory } from './directory/agent-directory.service';

export type SocketMiddleware = (socket: Socket, next: (error?: Error) => void) => void;

/** The error Socket.IO delivers as `connect_error` (PROTOCOL §1). */
export class HandshakeRefusedError extends Error {
  constructor(readonly data: { code: string; message: string }) {
    super('unauthorized');
  }
}

/**
 * Authenticates the Socket.IO handshake. Nest guards never run for connections, so this is a
 * Socket.IO middleware: a token, when present (`Authorization: Bearer`, else `?token=`, else
 * `auth.token`), must be valid or the connection is refused; when absent the socket is anonymous.
 * A valid token only identifies the user: agent authority begins with `agent:login`.
 */
@Injectable()
export class HandshakeAuthenticator {
  constructor(
    private readonly credentials: CredentialVerifier,
    private readonly bus: SecurityEventBus,
    private readonly attempts: LoginAttemptLimiter,
    private readonly directory: AgentDirectory,
    private readonly auth: AgentAuthService,
  ) {}

  middleware(): SocketMiddleware {
    return (socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    };
  }

  async authenticate(socket: Socket): Promise<void> {
    const token = handshakeToken(socket);
    if (token === undefined) return;
    const source = socketSource(socket);
    const refuse = (
      refusal: Omit<SecurityEvent, 'outcome' | 'source' | 'target' | 'reason'> & {
        reason: string;
        code: ErrorCode;
      },
    ): never => {
      this.bus.publish({ ...refusal, outcome: 'failure', source, target: 'connection' });
      throw new HandshakeRefusedError({ code: refusal.code, message: DEFAULT_MESSAGES[refusal.code] });
    };

    if (await this.attempts.spend((socket.data as SocketData).ip)) {
      refuse({
        type: 'ratelimit.blocked',
        reason: 'rate_limited',
        code: ErrorCode.RateLimited,
        details: { scope: 'ws' },
      });
    }
    const verification = await this.credentials.verify(token);
    if (!verification.ok) {
      return refuse({ type: 'auth.handshake', reason: verification.reason, code: verification.code });
    }
    const { claims, source: method } = verification;
    if (!claims.sub) {
      // Development fallback with a token that names nobody: there is no identity to attach.
      refuse({ type: 'auth.handshake', reason: 'missing_sub', code: ErrorCode.AuthInvalidToken, method });
    }
    // A token issued before an admin revoked the agent's sessions is refused here too (DESIGN §3).
    const user = this.directory.findByUserId(claims.sub);
    if (user?.agentId && this.auth.isRevoked(user.agentId, claims.iat)) {
      refuse({
        type: 'auth.handshake',
        reason: 'session_revoked',
        code: ErrorCode.AuthRevoked,
        method,
        actor: { userId: user.userId, agentId: user.agentId, role: user.role },
        orgId: user.orgId ?? undefined,
      });
    }
    (socket.data as SocketData).handshake = { userId: claims.sub, exp: claims.exp, iat: claims.iat, method };
    const accepted = {
      outcome: 'success',
      method,
      actor: { userId: claims.sub },
      source,
      target: 'connection',
    } as const;
    this.bus.publish({ type: 'auth.handshake', ...accepted });
    if (method === 'dev_bypass')
      this.bus.publish({ type: 'auth.dev_bypass', reason: 'no_key_source', ...accepted });
  }
}

function handshakeToken(socket: Socket): string | undefined {
  const header = socket.handshake.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : header;
  }
  const query = socket.handshake.query.token;
  if (typeof query === 'string' && query.length > 0) return query;
  const auth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (auth !== undefined && auth !== null && auth !== '') return String(auth);
  return undefined;
}
