export type CallRole = 'agent' | 'visitor';

/** A visitor's request for a call, ringing one agent at a time (PROTOCOL §3 "Ring"). */
export interface CallRequestRecord {
  requestId: string;
  visitorId: string;
  orgId: string;
  poolId: string | null;
  pageUrl: string;
  requestedAt: number;
  /** The agent it rings now; null while it waits for one. */
  agentId: string | null;
  /** Increases with every ring, so a timer of an earlier ring can tell it is stale. */
  ringSeq: number;
  /** Agents that rejected it: never offered again. */
  rejectedBy: string[];
  /** Agents it rang without an answer (or that left while it rang): skipped in this re-route chain. */
  passedBy: string[];
}

/** An accepted call (PROTOCOL §3): the same `callId` for its whole life, reconnects included. */
export interface CallRecord {
  callId: string;
  /** Its row in the call log. */
  callLogId: string;
  requestId: string;
  visitorId: string;
  agentId: string;
  /**
   * The agent's socket that carries the call (the tab that accepted, or that reconnected): only it
   * gets and sends the call's signals. Null while the agent's side is disconnected — or, once the
   * agent is back through a login (a token refresh) and before one of its tabs has spoken for the
   * call, while it is not yet known which tab carries it: the call's traffic then goes to every
   * tab of the agent, and the first to send a signal or heartbeat becomes the one.
   */
  agentSocketId: string | null;
  orgId: string;
  pageUrl: string;
  requestedAt: number;
  startedAt: number;
  /** SHA-256 of each party's current reconnect token; the tokens themselves are never stored. */
  tokenHashes: Record<CallRole, string>;
  /** When each party's connection was lost, or null while it is connected. */
  disconnectedAt: Record<CallRole, number | null>;
  lastHeartbeatAt: number;
}

/** How a request stopped ringing an agent. */
export type RingRelease = 'rejected' | 'passed';

/** What a conditional write expects of a call as it was read (CallStore.setDisconnected). */
export interface CallUnchanged {
  tokenHash: string;
  agentSocketId: string | null;
}
