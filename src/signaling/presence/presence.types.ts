import type { AgentProfile, AgentStatus } from '../protocol';

/** An agent's presence across all its sockets (tabs). */
export interface AgentPresence {
  agentId: string;
  userId: string;
  orgId: string;
  profile: AgentProfile;
  pools: string[];
  status: AgentStatus;
  socketIds: string[];
  currentCallVisitorId: string | null;
  connectedAt: number;
  lastActivityAt: number;
  /** Set when the last socket left: the presence is kept for the disconnect grace. */
  disconnectedAt: number | null;
}

export interface AttachInput {
  agentId: string;
  userId: string;
  orgId: string;
  profile: AgentProfile;
  pools: string[];
  socketId: string;
  now: number;
  /** Only a presence that left at or after this instant is resumed (the disconnect grace). */
  resumeSince: number;
}

export interface AttachResult {
  presence: AgentPresence;
  /** True when a disconnected presence was resumed within the grace (previous status restored). */
  resumed: boolean;
}
