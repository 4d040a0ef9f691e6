import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Socket } from 'socket.io';
import { ErrorCode } from '../../common/errors/error-code';
import { WsError } from '../../common/errors/ws-error';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import type { AgentIdentity, SocketData } from '../../common/socket/socket-data';
import { socketSource } from '../../common/socket/socket-source';
import { AgentAuthService } from '../agent-auth.service';
import { AgentAuthOptions } from '../decorators/agent-auth-options.decorator';
import { roleAtLeast } from '../directory/directory.types';

/**
 * `@AgentAuth()`: the socket must be logged in as an agent whose token has not expired, whose
 * session was not revoked and who is still active; optionally of a minimum role. Establishes
 * identity only — what that identity may touch is the services' decision.
 */
@Injectable()
export class WsAgentAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AgentAuthService,
    private readonly bus: SecurityEventBus,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const socket = context.switchToWs().getClient<Socket>();
    const event = context.switchToWs().getPattern();
    const identity = (socket.data as SocketData).auth;
    if (!identity) {
      this.refuse(socket, event, 'auth.required', ErrorCode.AuthRequired, 'not_logged_in');
    }
    assertSessionUsable(this.auth, this.bus, socket, event, identity!, WsAgentAuthGuard.name);

    const options = this.reflector.getAllAndOverride(AgentAuthOptions, [
      context.getHandler(),
      context.getClass(),
    ]);
    const roles = options?.roles ?? [];
    if (roles.length > 0 && !roles.some((role) => roleAtLeast(identity!.role, role))) {
      this.refuse(socket, event, 'auth.forbidden', ErrorCode.Forbidden, 'insufficient_role', identity);
    }
    return true;
  }

  private refuse(
    socket: Socket,
    event: string,
    type: 'auth.required' | 'auth.forbidden',
    code: ErrorCode,
    reason: string,
    identity?: AgentIdentity,
  ): never {
    publishRefusal(this.bus, socket, event, { type, code, reason, guard: WsAgentAuthGuard.name }, identity);
    throw new WsError(code);
  }
}

export interface Refusal {
  type: 'auth.required' | 'auth.forbidden' | 'auth.expired';
  code: ErrorCode;
  reason: string;
  /** The guard that decided, for the record and the metrics label. */
  guard: string;
}

/** Shared by the agent and call-party guards: an authenticated session must still be usable. */
export function assertSessionUsable(
  auth: AgentAuthService,
  bus: SecurityEventBus,
  socket: Socket,
  event: string,
  identity: AgentIdentity,
  guard: string,
): void {
  const code = auth.sessionRefusal(identity);
  if (!code) return;
  const type = code === ErrorCode.AuthExpired ? 'auth.expired' : 'auth.forbidden';
  const reason = {
    AUTH_EXPIRED: 'expired',
    AUTH_REVOKED: 'session_revoked',
    AUTH_AGENT_DISABLED: 'agent_disabled',
  }[code];
  publishRefusal(bus, socket, event, { type, code, reason, guard }, identity);
  throw new WsError(code);
}

export function publishRefusal(
  bus: SecurityEventBus,
  socket: Socket,
  event: string,
  { type, code, reason, guard }: Refusal,
  identity?: AgentIdentity,
): void {
  bus.publish({
    type,
    outcome: 'failure',
    reason,
    code,
    actor: identity ? { userId: identity.userId, agentId: identity.agentId, role: identity.role } : undefined,
    orgId: identity?.orgId,
    source: socketSource(socket),
    target: event,
    details: { guard },
  });
}
