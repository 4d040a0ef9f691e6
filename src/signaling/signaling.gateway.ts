import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AgentAuthService } from '../auth/agent-auth.service';
import { AgentAuth } from '../auth/decorators/agent-auth.decorator';
import { AuthenticatedAgent } from '../auth/decorators/authenticated-agent.decorator';
import { agentSpeakerOf } from '../auth/decorators/call-party.decorator';
import { VisitorAccess } from '../auth/decorators/visitor-access.decorator';
import { HandshakeAuthenticator } from '../auth/handshake-authenticator.service';
import { ClientIpResolver } from '../common/client-ip-resolver.service';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { Scheduler } from '../common/scheduler.service';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { AgentIdentity, SocketData } from '../common/socket/socket-data';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { socketSource } from '../common/socket/socket-source';
import { AppConfig } from '../config/app-config';
import { AgentAwayDto } from './dto/agent-away.dto';
import { AgentLoginDto } from './dto/agent-login.dto';
import { AgentStatusDto } from './dto/agent-status.dto';
import { CallReconnects } from './calls/call-reconnects.service';
import { HeartbeatDto } from './dto/heartbeat.dto';
import { NoPayloadDto } from './dto/no-payload.dto';
import { PresenceService } from './presence/presence.service';
import { RoutingService } from './routing/routing.service';
import { agentRoom, ClientEvent, orgRoom, ServerEvent, StatusAck } from './protocol';
import { SocketIoNotifier } from './socket-io.notifier';

import { SocketDrain } from '../transport/socket-drain.service';
import { InstanceSockets } from './instance-sockets.service';
/**
 * The Socket.IO edge of agent presence. Order on every event (DESIGN §2): the throttler of
 * @SocketEdge, then the handler's access guard, then the payload pipe, then the service.
 */
@WebSocketGateway()
@SocketEdge()
export class SignalingGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger(SignalingGateway.name);

  constructor(
    private readonly auth: AgentAuthService,
    private readonly handshake: HandshakeAuthenticator,
    private readonly presence: PresenceService,
    private readonly routing: RoutingService,
    private readonly reconnects: CallReconnects,
    private readonly notifier: SocketIoNotifier,
    private readonly scheduler: Scheduler,
    private readonly bus: SecurityEventBus,
    private readonly clientIp: ClientIpResolver,
    private readonly config: AppConfig,
    private readonly sockets: InstanceSockets,
    private readonly drain: SocketDrain,
  ) {}

  afterInit(server: Server): void {
    this.notifier.attach(server);
    server.use((socket, next) => {
      const data = socket.data as SocketData;
      data.ip = this.clientIp.resolve(socket.request);
      data.userAgent = socket.handshake.headers['user-agent'];
      next();
    });
    // Guards never run for connections, so the handshake token is checked in a Socket.IO middleware.
    server.use(this.handshake.middleware());
  }

  handleDisconnect(socket: Socket): Promise<void> {
    const auth = (socket.data as SocketData).auth;
    // Tracked: a graceful stop waits for it while the stores still answer.
    return this.drain.track(auth ? this.endSession(socket, auth) : Promise.resolve());
  }

  /**
   * Anyone may try to log in: that is how a socket establishes identity. Failures are counted per
   * IP and per claimed agent (AgentAuthService); a refused login leaves the socket connected and
   * anonymous (PROTOCOL §2.1), because the existing dashboard reconnects at once after a
   * server-side disconnect and logs in again, which would loop.
   */
  @VisitorAccess()
  @SubscribeMessage(ClientEvent.AgentLogin)
  async login(@ConnectedSocket() socket: Socket, @MessageBody() body: AgentLoginDto): Promise<void> {
    const data = socket.data as SocketData;
    const current = data.auth;
    let result;
    try {
      result = await this.auth.login(
        { agentId: body.agentId, token: body.token, handshake: data.handshake, current },
        socketSource(socket),
      );
    } catch (error) {
      // A refused refresh ends the session it would have refreshed (the socket is anonymous now);
      // an unreachable key server is not the client's fault, and its session is left as it was.
      const serverSide = error instanceof DomainError && error.code === ErrorCode.InternalError;
      if (current && !serverSide) await this.endSession(socket, current);
      throw error;
    }
    const { identity, user } = result;
    data.auth = identity;
    this.scheduleExpiry(socket, identity);

    // A refresh re-sends the unchanged state; presence and calls are not reset.
    if (!result.refreshed) {
      await this.joinPresence(socket, identity, user);
      // Back with a call held for it (a token refresh, a reload): the call resumes, and the state
      // sent below already says so.
      await this.reconnects.agentLoggedIn(agentSpeakerOf(identity, socket.id));
    }
    const agentState = await this.presence.state(identity.agentId, socket.id);
    if (!agentState)
      throw new DomainError(ErrorCode.AgentNotFound, 'No presence for this agent. Please login again.');
    socket.emit(ServerEvent.LoginSuccess, { agentState });
    socket.emit(ServerEvent.StatsUpdate, { poolVisitors: await this.routing.poolVisitors(identity.agentId) });
  }

  /**
   * Clears this socket's authentication and treats the socket as gone (PROTOCOL §2.1): the existing
   * dashboard sends it on every token refresh and logs in again a second later, so the agent's
   * presence enters the disconnect grace rather than ending, and its call is held for it.
   */
  @AgentAuth()
  @SubscribeMessage(ClientEvent.AgentLogout)
  async logout(
    @ConnectedSocket() socket: Socket,
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() _body: NoPayloadDto,
  ): Promise<{ success: true }> {
    await this.endSession(socket, agent);
    this.bus.publish({
      type: 'auth.logout',
      outcome: 'success',
      method: agent.method,
      actor: { userId: agent.userId, agentId: agent.agentId, role: agent.role },
      orgId: agent.orgId,
      source: socketSource(socket),
      target: ClientEvent.AgentLogout,
    });
    return { success: true };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.AgentStatus)
  async status(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() body: AgentStatusDto,
  ): Promise<StatusAck> {
    return { success: true, status: await this.presence.setStatus(agent, body.status) };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.AgentAway)
  async away(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() _body: AgentAwayDto,
  ): Promise<StatusAck> {
    return { success: true, status: await this.presence.setStatus(agent, 'away') };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.AgentBack)
  async back(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() _body: NoPayloadDto,
  ): Promise<StatusAck> {
    return { success: true, status: await this.presence.setStatus(agent, 'idle') };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.Heartbeat)
  async heartbeat(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() _body: HeartbeatDto,
  ): Promise<void> {
    await this.presence.heartbeat(agent.agentId);
  }

  /**
   * The socket stops speaking for the agent (disconnect, logout, refused refresh): it leaves the
   * agent's rooms, its expiry timer stops, its presence detaches with the disconnect grace, and a
   * call it carried is held for the agent's return.
   */
  private async endSession(socket: Socket, identity: AgentIdentity): Promise<void> {
    const data = socket.data as SocketData;
    if (data.auth?.sessionId === identity.sessionId) delete data.auth;
    await this.scheduler.cancel(expiryKey(socket.id));
    // Still in the agent's room meanwhile: a socket that logs out is told what stops ringing it.
    await this.presence.socketClosed(identity.agentId, socket.id);
    await this.reconnects.agentSocketLeft(identity.agentId, socket.id);
    await this.sockets.released(socket.id);
    // Even when the socket is gone: an event handled after it left may have joined them again.
    await socket.leave(agentRoom(identity.agentId));
    await socket.leave(orgRoom(identity.orgId));
  }

  private async joinPresence(
    socket: Socket,
    identity: AgentIdentity,
    user: Parameters<PresenceService['login']>[1],
  ): Promise<void> {
    await socket.join([agentRoom(identity.agentId), orgRoom(identity.orgId)]);
    await this.presence.login(identity, user, socket.id);
    await this.sockets.held(socket.id, { agentId: identity.agentId });
  }

  /**
   * An agent socket's authority ends at its token's expiry; after AUTH_EXPIRY_GRACE_MS more it is
   * disconnected unless `agent:login` refreshed the token (which reschedules this).
   */
  private scheduleExpiry(socket: Socket, identity: AgentIdentity): void {
    const expiresAtMs = (identity.exp + this.config.auth.clockToleranceS) * 1000;
    const delay = expiresAtMs + this.config.auth.expiryGraceMs - Date.now();
    this.scheduler.schedule(expiryKey(socket.id), delay, () => {
      const current = (socket.data as SocketData).auth;
      if (!socket.connected || current?.sessionId !== identity.sessionId || current.exp !== identity.exp)
        return;
      this.logger.log(
        `agent ${identity.agentId}: token expired and not refreshed; disconnecting socket ${socket.id}`,
      );
      this.bus.publish({
        type: 'auth.expired',
        outcome: 'failure',
        reason: 'expired_not_refreshed',
        code: ErrorCode.AuthExpired,
        method: identity.method,
        actor: { userId: identity.userId, agentId: identity.agentId, role: identity.role },
        orgId: identity.orgId,
        source: socketSource(socket),
        target: 'connection',
      });
      // No `event`: nothing the client sent failed; the session ran out (PROTOCOL §2.3 `error`).
      socket.emit(ServerEvent.Error, {
        code: ErrorCode.AuthExpired,
        message: 'The session expired and was not refreshed.',
      });
      socket.disconnect(true);
    });
  }
}

const expiryKey = (socketId: string): string => `session-expiry:${socketId}`;
