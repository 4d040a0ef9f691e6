import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ErrorCode } from '../../common/errors/error-code';
import { WsError } from '../../common/errors/ws-error';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import type { SocketData } from '../../common/socket/socket-data';
import { AgentAuthService } from '../agent-auth.service';
import { assertSessionUsable, publishRefusal } from './ws-agent-auth.guard';

/**
 * `@CallParty()`: for events both sides send. Resolves who is speaking — a logged-in agent (whose
 * session must still be usable), else the socket's visitor, else anonymous — and refuses only an
 * agent reconnect from a socket that is not logged in. Whether the speaker is a party of the call
 * is the call service's check, after validation.
 */
@Injectable()
export class CallPartyGuard implements CanActivate {
  constructor(
    private readonly auth: AgentAuthService,
    private readonly bus: SecurityEventBus,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const socket = context.switchToWs().getClient<Socket>();
    const event = context.switchToWs().getPattern();
    const identity = (socket.data as SocketData).auth;
    if (identity) {
      assertSessionUsable(this.auth, this.bus, socket, event, identity, CallPartyGuard.name);
      return true;
    }
    const payload: unknown = context.switchToWs().getData();
    const claimsAgentRole =
      typeof payload === 'object' && payload !== null && (payload as { role?: unknown }).role === 'agent';
    if (claimsAgentRole) {
      publishRefusal(this.bus, socket, event, {
        type: 'auth.required',
        code: ErrorCode.AuthRequired,
        reason: 'not_logged_in',
        guard: CallPartyGuard.name,
      });
      throw new WsError(ErrorCode.AuthRequired);
    }
    return true;
  }
}
