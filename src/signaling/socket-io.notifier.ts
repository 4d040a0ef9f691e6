import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { ClientNotifier } from './client-notifier';
import type { AgentPresence } from './presence/presence.types';
import { agentRoom, ServerEvents, visitorRoom } from './protocol';

/**
 * ClientNotifier over the gateway's Socket.IO server, addressing rooms (adapter-friendly). A
 * socket open on this instance is written to directly: its id is unique across instances, so
 * nobody elsewhere can be in its room, and a shared adapter would publish for nothing.
 */
@Injectable()
export class SocketIoNotifier extends ClientNotifier {
  private server: Server | null = null;

  attach(server: Server): void {
    this.server = server;
  }

  /** Connections open on this instance. */
  connectedSockets(): number {
    return this.server?.engine.clientsCount ?? 0;
  }

  toAgent<E extends keyof ServerEvents>(
    agentId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    this.server?.to(agentRoom(agentId)).emit(event, ...args);
  }

  toAgents<E extends keyof ServerEvents>(
    agents: readonly Pick<AgentPresence, 'agentId' | 'socketIds'>[],
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    const server = this.server;
    if (!server || agents.length === 0) return;
    const open = agents.flatMap((agent) => agent.socketIds.map((id) => server.sockets.sockets.get(id)));
    if (open.every((socket) => socket !== undefined)) for (const socket of open) socket.emit(event, ...args);
    else server.to(agents.map((agent) => agentRoom(agent.agentId))).emit(event, ...args);
  }

  toVisitor<E extends keyof ServerEvents>(
    visitorId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    this.server?.to(visitorRoom(visitorId)).emit(event, ...args);
  }

  toAgentExcept<E extends keyof ServerEvents>(
    agentId: string,
    socketId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    this.server
      ?.to(agentRoom(agentId))
      .except(socketId)
      .emit(event, ...args);
  }

  toSocket<E extends keyof ServerEvents>(
    socketId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    const local = this.server?.sockets.sockets.get(socketId);
    if (local) local.emit(event, ...args);
    else this.server?.to(socketId).emit(event, ...args);
  }
}
