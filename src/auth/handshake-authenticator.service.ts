import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DEFAULT_MESSAGES, ErrorCode } from '../common/errors/error-code';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { LoginFailureBudget } from '../common/throttling/login-failure-budget.service';
import type { SocketData } from '../common/socket/socket-data';
import { socketSource } from '../common/socket/socket-source';
import { AgentAuthService, tooManyFailures } from './agent-auth.service';
import { CredentialVerifier } from './credential-verifier.service';
import { AgentDirectory } from './directory/agent-directory.service';

export type SocketMiddleware = (socket: Socket, next: (error?: Error) => void) => void;

/**
 * The error Socket.IO delivers as `connect_error` (PROTOCOL §1): `data` carries the code, and the
 * message says what happened in words (the existing dashboard shows only `message`).
 */
export class HandshakeRefusedError extends Error {
  constructor(readonly data: { code: string; message: string }) {
    super(data.message);
  }
}

/** What a refused handshake says, by code: the token's problem, in the dashboard's words. */
const HANDSHAKE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.AuthInvalidToken]: 'Connection refused: the token is invalid.',
  [ErrorCode.AuthExpired]: 'Connection refused: the token has expired. Sign in again.',
  [ErrorCode.AuthRevoked]: 'Connection refused: this session has been revoked. Sign in again.',
  [ErrorCode.InternalError]: 'Connection refused: the token keys are unavailable right now. Please retry.',
};

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
    private readonly failures: LoginFailureBudget,
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
    const refuse = async (
      refusal: Omit<SecurityEvent, 'outcome' | 'source' | 'target' | 'reason'> & {
        reason: string;
        code: ErrorCode;
      },
    ): Promise<never> => {
      // A refused token is a failed credential check (PROTOCOL §6); a key-server outage is not.
      const exhausted =
        refusal.code === ErrorCode.InternalError
          ? null
          : await this.failures.recordFailure({
              source,
              target: 'connection',
              reason: refusal.reason,
              method: refusal.method,
            });
      if (exhausted) {
        throw new HandshakeRefusedError({
          code: ErrorCode.RateLimited,
          message: `Connection refused: ${tooManyFailures(exhausted.retryAfterS)}`,
        });
      }
      this.bus.publish({ ...refusal, outcome: 'failure', source, target: 'connection' });
      throw new HandshakeRefusedError({
        code: refusal.code,
        message: HANDSHAKE_MESSAGES[refusal.code] ?? `Connection refused: ${DEFAULT_MESSAGES[refusal.code]}`,
      });
    };

    const verification = await this.credentials.verify(token);
    if (!verification.ok) {
      return refuse({ type: 'auth.handshake', reason: verification.reason, code: verification.code });
    }
    const { claims, source: method } = verification;
    if (!claims.sub) {
      // Development fallback with a token that names nobody: there is no identity to attach.
      await refuse({
        type: 'auth.handshake',
        reason: 'missing_sub',
        code: ErrorCode.AuthInvalidToken,
        method,
      });
    }
    // A token issued before an admin revoked the agent's sessions is refused here too (DESIGN §3).
    const user = this.directory.findByUserId(claims.sub);
    if (user?.agentId && this.auth.isRevoked(user.agentId, claims.iat)) {
      await refuse({
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
