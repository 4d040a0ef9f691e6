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

/** Why an agent stopped taking visitors and calls; also the `reason` its visitors are told. */
export type UnavailableReason = 'agent_away' | 'agent_offline' | 'ring_no_answer';

/**
 * A change of an agent's availability that routing and calls react to (PROTOCOL §3): waiting
 * visitors are picked up, ringing requests re-routed, visitors reassigned, a call put on hold.
 */
export type PresenceChange =
  | { kind: 'available'; presence: AgentPresence }
  | {
      kind: 'unavailable';
      presence: AgentPresence;
      reason: UnavailableReason;
      /**
       * Whether the presence is gone: `revoked` (an admin ended its sessions: its call ends now) or
       * `grace_expired` (its call, on hold for the agent's reconnect, ends by its own timer).
       */
      gone: 'revoked' | 'grace_expired' | null;
    }
  /** The agent's last socket closed; its presence is kept for the disconnect grace. */
  | { kind: 'disconnected'; presence: AgentPresence };

export type PresenceListener = (change: PresenceChange) => Promise<void>;
