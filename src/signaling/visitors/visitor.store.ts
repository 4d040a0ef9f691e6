import type {
  AgentLoad,
  AssignBestInput,
  AssignInput,
  AssignResult,
  RegisterVisitorInput,
  VisitorRecord,
} from './visitor.types';

/**
 * Port for visitor sessions and agents' visitor loads (DESIGN §4). Every operation is one atomic
 * step — conditional writes take the state they were decided on (`expectedAgentId`, `socketId`) —
 * so a shared (Redis) implementation gives the services the same guarantees as the in-memory one.
 */
export abstract class VisitorStore {
  /** Creates a session, under `preferredId` if no session holds it, else under `freshId`. */
  abstract register(input: RegisterVisitorInput): Promise<VisitorRecord>;

  abstract get(visitorId: string): Promise<VisitorRecord | null>;

  /** Removes the session only if `socketId` still holds it; releases its agent's load. */
  abstract remove(visitorId: string, socketId: string | null): Promise<VisitorRecord | null>;

  /** Moves the session to `socketId` (a reconnect), or holds it without a socket (null). */
  abstract setSocket(visitorId: string, socketId: string | null): Promise<VisitorRecord | null>;

  /**
   * Holds the session without a socket only if `socketId` still holds it (its disconnect, handled
   * late, must not detach a session that already moved to the socket that reconnected); null
   * otherwise.
   */
  abstract hold(visitorId: string, socketId: string): Promise<VisitorRecord | null>;

  /** Compare-and-set of the visitor's agent under the new agent's capacity; null when either check fails. */
  abstract assign(input: AssignInput): Promise<AssignResult | null>;

  /**
   * Chooses the visitor's agent among `candidates` by their loads as they are now, and assigns it
   * in the same step (compare-and-set on `expectedAgentId` as `assign`): the lowest rank among
   * those under `capacity`, then the fewest visitors, then the least recently assigned (never
   * first), then the agent id — routing's order (`selectAgent`, PROTOCOL §3). With no candidate
   * under capacity the visitor waits (agent null). Null when the compare-and-set fails.
   */
  abstract assignBest(input: AssignBestInput): Promise<AssignResult | null>;

  abstract assignedTo(agentId: string): Promise<VisitorRecord[]>;

  /** Connected visitors of the organisation without an agent, oldest first. */
  abstract waiting(orgId: string): Promise<VisitorRecord[]>;

  abstract loads(agentIds: readonly string[]): Promise<Record<string, AgentLoad>>;

  /** Records a sign of life from the visitor's page. */
  abstract touch(visitorId: string, now: number): Promise<void>;

  /** Sessions of the organisation by pool (those whose page matched no pool are not counted). */
  abstract poolCounts(orgId: string): Promise<Record<string, number>>;

  abstract count(): Promise<number>;
}
