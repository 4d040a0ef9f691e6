/** A visitor's session on a customer's page (PROTOCOL §2.2). */
export interface VisitorRecord {
  visitorId: string;
  orgId: string;
  /** The pool its page matched; null when no rule matched and the organisation has no default pool. */
  poolId: string | null;
  pageUrl: string;
  /** The socket that holds the session; null while a call holds it for a reconnect. */
  socketId: string | null;
  connectedAt: number;
  /** The last sign of life from the visitor's page (joining, an interaction it reported). */
  lastActivityAt: number;
  /** The agent greeting this visitor, or null while it waits for one. */
  agentId: string | null;
}

/** How loaded an agent is with visitors, for routing (PROTOCOL §3). */
export interface AgentLoad {
  visitors: number;
  /** When a visitor was last assigned to this agent (least-recently-assigned first); null = never. */
  lastAssignedAt: number | null;
}

export interface RegisterVisitorInput {
  /** The client's own id, honoured only when no live session holds it (PROTOCOL §2.2 **fix**). */
  preferredId?: string;
  /** Used when `preferredId` is absent or taken. */
  freshId: string;
  orgId: string;
  poolId: string | null;
  pageUrl: string;
  socketId: string;
  now: number;
}

export interface AssignInput {
  visitorId: string;
  /** The new agent, or null to leave the visitor waiting. */
  agentId: string | null;
  /** The assignment the decision was based on: the write happens only if it is still current. */
  expectedAgentId: string | null;
  /** The new agent must have fewer visitors than this. */
  capacity: number;
  now: number;
}

/** A candidate of `assignBest`: an available agent and its priority rank in the visitor's pool. */
export interface AssignCandidate {
  agentId: string;
  rank: number;
}

export interface AssignBestInput extends Omit<AssignInput, 'agentId'> {
  candidates: readonly AssignCandidate[];
}

export interface AssignResult {
  visitor: VisitorRecord;
  previousAgentId: string | null;
}
