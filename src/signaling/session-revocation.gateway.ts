import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { SessionRevocationService } from '../auth/session-revocation.service';
import { SessionTerminator } from '../auth/session-terminator';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { PresenceService } from './presence/presence.service';
import { agentRoom, ClientEvents, ServerEvent, ServerEvents } from './protocol';

/**
 * How long the cluster-wide lookup of a revoked agent's sockets may take. Past it (an instance
 * that died and is still counted by the adapter, one too slow to answer), the sockets are still
 * told and disconnected everywhere, but only this instance's are counted and have their presence
 * ended here.
 */
export const REVOKED_SOCKETS_LOOKUP_MS = 1_000;

/**
 * Ends every Socket.IO session of a revoked agent (PROTOCOL §4, §2.3). A gateway, with no message
 * handlers, only so that Nest hands it the shared Socket.IO server: it addresses the agent's room,
 * and room operations go through the adapter (with Redis, @socket.io/redis-adapter), so sockets
 * held by other instances sharing it are counted, told and disconnected too. What it relies on:
 * - `in(room).emit()` and `in(room).disconnectSockets()` are broadcasts: every instance that is
 *   up acts on them, none is waited for, a dead one holds no live socket anyway; both are
 *   published in order on one connection, so each instance tells its sockets before it
 *   disconnects them;
 * - `in(room).fetchSockets()` waits for every instance the adapter counts: it is bounded by
 *   REVOKED_SOCKETS_LOOKUP_MS and falls back to this instance's sockets (`local`);
 * - the instance that holds a socket runs its disconnect handler, which finds the presence already
 *   ended by `presence.revoke` (a shared store), or ends it when it runs first: either order works.
 * Auth (which cannot import signaling) reaches it through the SessionTerminator port it registers
 * with; the tokens are refused on every instance before this runs (AgentDirectory, RevocationFeed).
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
    const { sockets, everywhere } = await this.socketsIn(this.server, room);
    if (sockets.length === 0 && everywhere) return 0;
    // `session:revoked` first: the transport flushes it before the disconnect packet.
    this.server.in(room).emit(ServerEvent.SessionRevoked, { message });
    this.server.in(room).disconnectSockets(true);
    // A dropped connection keeps the agent's presence for the disconnect grace so that it can
    // resume; a revoked session must not be resumed, so its presence (and call) ends now. (The
    // gateway's handleDisconnect finds the sockets already detached and schedules no grace.)
    for (const socket of sockets) await this.presence.revoke(agentId, socket.id);
    this.logger.log(
      `agent ${agentId}: ${sockets.length} revoked socket(s) disconnected${everywhere ? '' : ' on this instance (others not counted)'}`,
    );
    return sockets.length;
  }

  /** The room's sockets on every instance, or on this one when the others do not answer in time. */
  private async socketsIn(
    server: Server<ClientEvents, ServerEvents>,
    room: string,
  ): Promise<{ sockets: { id: string }[]; everywhere: boolean }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(resolve, REVOKED_SOCKETS_LOOKUP_MS, null);
    });
    try {
      // A late answer, or a late failure, is ignored: race() has subscribed to both.
      const found = await Promise.race([server.in(room).fetchSockets(), late]);
      if (found) return { sockets: found, everywhere: true };
      this.logger.warn(`${room}: other instances did not answer within ${REVOKED_SOCKETS_LOOKUP_MS} ms`);
    } catch (error) {
      this.logger.warn(`${room}: other instances could not be asked: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return { sockets: await server.local.in(room).fetchSockets(), everywhere: false };
  }
}
