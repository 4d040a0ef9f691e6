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
import { VisitorAccess } from '../auth/decorators/visitor-access.decorator';
import { HandshakeAuthenticator } from '../auth/handshake-authenticator.service';
import { ClientIpResolver } from '../common/client-ip-resolver.service';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { WsError } from '../common/errors/ws-error';
import { Scheduler } from '../common/scheduler.service';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { AgentIdentity, SocketData } from '../common/socket/socket-data';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { socketSource } from '../common/socket/socket-source';
import { AppConfig } from '../config/app-config';
import { AgentAwayDto } from './dto/agent-away.dto';
import { AgentLoginDto } from './dto/agent-login.dto';
import { AgentStatusDto } from './dto/agent-status.dto';
import { HeartbeatDto } from './dto/heartbeat.dto';
import { NoPayloadDto } from './dto/no-payload.dto';
import { PresenceService } from './presence/presence.service';
import { RoutingService } from './routing/routing.service';
import { agentRoom, ClientEvent, orgRoom, ServerEvent, StatusAck } from './protocol';
import { SocketIoNotifier } from './socket-io.notifier';

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
    private readonly notifier: SocketIoNotifier,
    private readonly scheduler: Scheduler,
    private readonly bus: SecurityEventBus,
    private readonly clientIp: ClientIpResolver,
    private readonly config: AppConfig,
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

  async handleDisconnect(socket: Socket): Promise<void> {
    this.scheduler.cancel(expiryKey(socket.id));
    const auth = (socket.data as SocketData).auth;
    if (auth) await this.presence.socketClosed(auth.agentId, socket.id);
  }

  // Anyone may try to log in: that is how a socket establishes identity (throttled per IP).
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
      // A refused login ends the connection (PROTOCOL §2.1); the filter sends `error` first. An
      // unreachable key server is not the client's fault: it keeps its socket and may retry.
      if (error instanceof DomainError) {
        const disconnect = error.code !== ErrorCode.InternalError;
        throw new WsError(error.code, error.message, undefined, disconnect);
      }
      throw error;
    }
    const { identity, user } = result;
    data.auth = identity;
    this.scheduleExpiry(socket, identity);

    // A refresh re-sends the unchanged state; presence and calls are not reset.
    let agentState = result.refreshed ? await this.presence.state(identity.agentId, socket.id) : null;
    agentState ??= await this.joinPresence(socket, identity, user);
    socket.emit(ServerEvent.LoginSuccess, { agentState });
    socket.emit(ServerEvent.StatsUpdate, { poolVisitors: await this.routing.poolVisitors(identity.agentId) });
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.AgentLogout)
  async logout(
    @ConnectedSocket() socket: Socket,
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() _body: NoPayloadDto,
  ): Promise<{ success: true }> {
    await this.presence.logout(agent.agentId, socket.id);
    this.scheduler.cancel(expiryKey(socket.id));
    await socket.leave(agentRoom(agent.agentId));
    await socket.leave(orgRoom(agent.orgId));
    delete (socket.data as SocketData).auth;
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

  private async joinPresence(
    socket: Socket,
    identity: AgentIdentity,
    user: Parameters<PresenceService['login']>[1],
  ): ReturnType<PresenceService['login']> {
    await socket.join([agentRoom(identity.agentId), orgRoom(identity.orgId)]);
    return this.presence.login(identity, user, socket.id);
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
