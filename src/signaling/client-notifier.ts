import type { ServerEvents } from './protocol';

/**
 * How domain services reach clients without knowing Socket.IO: addressed by agent (every socket
 * of the agent, through its room — works across instances once an adapter is shared).
 */
export abstract class ClientNotifier {
  abstract toAgent<E extends keyof ServerEvents>(
    agentId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;
}
