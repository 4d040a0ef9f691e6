import { ExecutionContext, Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ErrorCode } from '../errors/error-code';
import { TransportThrottlerGuard } from './transport-throttler.guard';
import { WsError } from '../errors/ws-error';
import type { SocketData } from '../socket/socket-data';
import { socketSource } from '../socket/socket-source';
import { IP_KEYED_EVENTS, SOCKET_KEYED_EVENTS, socketThrottleKey } from './socket-rate-limits';

/**
 * @nestjs/throttler on Socket.IO events. Runs first on every event (DESIGN §2 order): the named
 * throttler of the event's budget (socket-rate-limits.ts) counts it in the event's own bucket,
 * keyed by the authenticated agent, else the visitor, else the client IP (`agent:login` by the
 * socket, `visitor:join` by the IP, whatever the socket already is). Applied on the gateway
 * class because global guards never reach gateways.
 */
@Injectable()
export class WsThrottlerGuard extends TransportThrottlerGuard {
  protected readonly transport = 'ws';

  protected override getRequestResponse(context: ExecutionContext): {
    req: Record<string, unknown>;
    res: Record<string, unknown>;
  } {
    const socket = context.switchToWs().getClient<Socket>();
    // The throttler reads `req.headers` for its user-agent filter; a socket has none of its own.
    const req = { socket, event: context.switchToWs().getPattern(), headers: socket.handshake.headers };
    return { req, res: {} };
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const socket = req.socket as Socket;
    const data = socket.data as SocketData;
    const event = req.event as string;
    if (SOCKET_KEYED_EVENTS.has(event)) return Promise.resolve(`socket:${socket.id}`);
    if (IP_KEYED_EVENTS.has(event)) return Promise.resolve(`ip:${data.ip}`);
    if (data.auth) return Promise.resolve(`agent:${data.auth.agentId}`);
    if (data.visitor) return Promise.resolve(`visitor:${data.visitor.visitorId}`);
    return Promise.resolve(`ip:${data.ip}`);
  }

  protected override generateKey(context: ExecutionContext, tracker: string): string {
    return socketThrottleKey(context.switchToWs().getPattern(), tracker);
  }

  protected override throwThrottlingException(context: ExecutionContext): Promise<void> {
    const socket = context.switchToWs().getClient<Socket>();
    const event = context.switchToWs().getPattern();
    const auth = (socket.data as SocketData).auth;
    this.bus.publish({
      type: 'ratelimit.blocked',
      outcome: 'failure',
      reason: 'rate_limited',
      code: ErrorCode.RateLimited,
      actor: auth ? { userId: auth.userId, agentId: auth.agentId, role: auth.role } : undefined,
      orgId: auth?.orgId,
      source: socketSource(socket),
      target: event,
      details: { scope: 'ws' },
    });
    throw new WsError(ErrorCode.RateLimited);
  }
}
