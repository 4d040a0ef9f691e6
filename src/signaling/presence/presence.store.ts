import type { AgentStatus } from '../protocol';
import type { AgentPresence, AttachInput, AttachResult } from './presence.types';

/**
 * Port for presence state (DESIGN §4). Every operation is one atomic step, so that the in-memory
 * implementation and a shared (Redis) one give the same guarantees to the services.
 */
export abstract class PresenceStore {
  /** Adds a socket: creates the presence (status `away`), joins an existing one, or resumes one in grace. */
  abstract attach(input: AttachInput): Promise<AttachResult>;

  /** Removes a socket; when it was the last, marks the presence disconnected at `now`. */
  abstract detach(agentId: string, socketId: string, now: number): Promise<AgentPresence | null>;

  /** Deletes the presence only if it is still disconnected since `disconnectedAt` (grace expiry). */
  abstract expireIfDisconnectedSince(agentId: string, disconnectedAt: number): Promise<AgentPresence | null>;

  /** Deletes the presence now (logout of the last socket). */
  abstract remove(agentId: string): Promise<AgentPresence | null>;

  /** Sets the status unless the current one is in `unlessIn` (e.g. keep `in_call`). */
  abstract setStatus(
    agentId: string,
    status: AgentStatus,
    now: number,
    unlessIn?: readonly AgentStatus[],
  ): Promise<AgentPresence | null>;

  /** Moves an `idle` agent to `in_call`; null otherwise (one call at a time; away agents take none). */
  abstract enterCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null>;

  /** Puts the agent back in the call it reconnected to; null when it is in another call meanwhile. */
  abstract resumeCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null>;

  /** Moves an agent in a call back to `idle`; null when it was not in a call. */
  abstract leaveCall(agentId: string, now: number): Promise<AgentPresence | null>;

  abstract touch(agentId: string, now: number): Promise<void>;

  abstract get(agentId: string): Promise<AgentPresence | null>;

  abstract list(): Promise<AgentPresence[]>;

  /**
   * The presences of one organisation (those `list()` returns, filtered), in the order they were
   * created. Indexed: it costs the size of the organisation, not of the whole deployment.
   */
  abstract inOrg(orgId: string): Promise<AgentPresence[]>;

  /** Atomically moves `idle` agents silent since before `cutoff` to `away`; returns them. */
  abstract markStale(cutoff: number, now: number): Promise<AgentPresence[]>;
}
