import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { ClientNotifier } from './client-notifier';
import { agentRoom, ServerEvents, visitorRoom } from './protocol';

/** ClientNotifier over the gateway's Socket.IO server, addressing rooms (adapter-friendly). */
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
    this.server?.to(socketId).emit(event, ...args);
  }
}
