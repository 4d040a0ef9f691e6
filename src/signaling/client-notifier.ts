import type { ServerEvents } from './protocol';

/**
 * How domain services reach clients without knowing Socket.IO: addressed by agent (every socket of
 * the agent, its tabs) or by visitor, always through a room — which reaches sockets held by other
 * instances once an adapter is shared.
 */
export abstract class ClientNotifier {
  abstract toAgent<E extends keyof ServerEvents>(
    agentId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;

  abstract toVisitor<E extends keyof ServerEvents>(
    visitorId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;
}
