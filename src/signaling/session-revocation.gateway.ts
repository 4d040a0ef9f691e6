import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { SessionRevocationService } from '../auth/session-revocation.service';
import { SessionTerminator } from '../auth/session-terminator';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { PresenceService } from './presence/presence.service';
import { agentRoom, ClientEvents, ServerEvent, ServerEvents } from './protocol';

/**
 * Ends every Socket.IO session of a revoked agent (PROTOCOL §4, §2.3). A gateway, with no message
 * handlers, only so that Nest hands it the shared Socket.IO server: it addresses the agent's room,
 * and room operations go through the adapter, so sockets held by other instances sharing it are
 * counted, told and disconnected too. Auth (which cannot import signaling) reaches it through the
 * SessionTerminator port it registers with.
 */
@WebSocketGateway()
// Required on every gateway by the boot check; with no handlers, nothing here is ever throttled.
@SocketEdge()
export class SessionRevocationGateway extends SessionTerminator implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionRevocationGateway.name);
  private unregister: (() => void) | null = null;

  /** Assigned by Nest when the gateways are connected to the server. */
  @WebSocketServer()
  private readonly server?: Server<ClientEvents, ServerEvents>;

  constructor(
    private readonly revocations: SessionRevocationService,
    private readonly presence: PresenceService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.unregister = this.revocations.registerTerminator(this);
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }

  async terminate(agentId: string, message: string): Promise<number> {
    if (!this.server) return 0;
    const room = agentRoom(agentId);
    const sockets = await this.server.in(room).fetchSockets();
    if (sockets.length === 0) return 0;
    // `session:revoked` first: the transport flushes it before the disconnect packet.
    this.server.in(room).emit(ServerEvent.SessionRevoked, { message });
    this.server.in(room).disconnectSockets(true);
    // A dropped connection keeps the agent's presence for the disconnect grace so that it can
    // resume; a revoked session must not be resumed, so its presence (and call) ends now. (The
    // gateway's handleDisconnect finds the sockets already detached and schedules no grace.)
    for (const socket of sockets) await this.presence.revoke(agentId, socket.id);
    this.logger.log(`agent ${agentId}: ${sockets.length} revoked socket(s) disconnected`);
    return sockets.length;
  }
}
