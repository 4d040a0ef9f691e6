import type { AgentPresence } from './presence/presence.types';
import type { ServerEvents } from './protocol';

/**
 * How domain services reach clients without knowing Socket.IO: addressed by agent (every socket of
 * the agent, its tabs), by visitor, or by one socket (the tab that carries a call), always through
 * a room — which reaches sockets held by other instances once an adapter is shared.
 */
export abstract class ClientNotifier {
  abstract toAgent<E extends keyof ServerEvents>(
    agentId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;

  /**
   * Every socket of each agent, as one message (one publish on a shared adapter) — or none when
   * each socket their presence lists is open on this instance: those are written to directly.
   * For figures the next message corrects (`stats:update`): a tab whose login is still being
   * recorded is in the agent's room before it is in its presence, and is missed then.
   */
  abstract toAgents<E extends keyof ServerEvents>(
    agents: readonly Pick<AgentPresence, 'agentId' | 'socketIds'>[],
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;

  abstract toVisitor<E extends keyof ServerEvents>(
    visitorId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;

  /** Every socket of the agent but `socketId` (the tabs that did not accept a call). */
  abstract toAgentExcept<E extends keyof ServerEvents>(
    agentId: string,
    socketId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;

  /** One socket, by id (every socket is in a room of its own id). */
  abstract toSocket<E extends keyof ServerEvents>(
    socketId: string,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void;
}
