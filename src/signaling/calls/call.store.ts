import type { CallRecord, CallRequestRecord, CallRole, RingRelease } from './call.types';

/**
 * Port for call requests and calls (DESIGN §4). Transitions that must happen once — a request
 * claimed by one accept, a ring moved from one agent to the next, a call ended, a reconnect token
 * spent — are single conditional operations, so that a shared (Redis) implementation can run each
 * as one script and the services need not change.
 */
export abstract class CallStore {
  /** Stores a new request; the visitor's previous pending request, if any, is removed and returned. */
  abstract putRequest(request: CallRequestRecord): Promise<CallRequestRecord | null>;

  abstract getRequest(requestId: string): Promise<CallRequestRecord | null>;

  /** Rings `agentId` (or leaves the request waiting) if it still rings `expectedAgentId`. */
  abstract ring(
    requestId: string,
    agentId: string | null,
    expectedAgentId: string | null,
  ): Promise<CallRequestRecord | null>;

  /** Stops ringing `agentId` (only if it rings it), remembering why. */
  abstract release(requestId: string, agentId: string, why: RingRelease): Promise<CallRequestRecord | null>;

  /** Removes and returns the request if it rings `agentId`: exactly one accept wins. */
  abstract claim(requestId: string, agentId: string): Promise<CallRequestRecord | null>;

  /** Removes and returns the request if it belongs to `visitorId`. */
  abstract withdraw(requestId: string, visitorId: string): Promise<CallRequestRecord | null>;

  abstract requestOfVisitor(visitorId: string): Promise<CallRequestRecord | null>;

  abstract ringing(agentId: string): Promise<CallRequestRecord[]>;

  /** Requests of the organisation ringing nobody, oldest first. */
  abstract waitingRequests(orgId: string): Promise<CallRequestRecord[]>;

  abstract createCall(call: CallRecord): Promise<void>;

  abstract getCall(callId: string): Promise<CallRecord | null>;

  abstract callOfAgent(agentId: string): Promise<CallRecord | null>;

  abstract callOfVisitor(visitorId: string): Promise<CallRecord | null>;

  /** Removes and returns the call: whoever ends it first, ends it once. */
  abstract endCall(callId: string): Promise<CallRecord | null>;

  /** Records a party's connection lost (`at`) or back (null). */
  abstract setDisconnected(callId: string, role: CallRole, at: number | null): Promise<CallRecord | null>;

  /**
   * Spends a reconnect token: if `tokenHash` is the current token of `role` in some call (whose
   * agent is `agentId`, when given), both parties' tokens are replaced by `next` and the party is
   * marked connected. Single use.
   */
  abstract spendToken(
    tokenHash: string,
    role: CallRole,
    next: Record<CallRole, string>,
    agentId?: string,
  ): Promise<CallRecord | null>;

  abstract touchCall(callId: string, now: number): Promise<void>;

  abstract counts(): Promise<{ requests: number; calls: number }>;
}
