import type { CallRecord, CallRequestRecord, CallRole, CallUnchanged, RingRelease } from './call.types';

/**
 * Port for call requests and calls (DESIGN §4). Each operation is one conditional step — a request
 * claimed by the agent it rings, a ring moved on only from the agent it rings, a call ended once, a
 * reconnect token spent once — so that a shared (Redis) implementation can run each as one script.
 * Accepting claims the request and creates its call in one step. What spans stores (accept also
 * enters the agent into the call, in the presence store) re-checks its preconditions at each step
 * and undoes what it did when a later one fails.
 */
export abstract class CallStore {
  /** Stores a new request; the visitor's previous pending request, if any, is removed and returned. */
  abstract putRequest(request: CallRequestRecord): Promise<CallRequestRecord | null>;

  /**
   * `putRequest`, then `ring` the new request at `agentId`, in one step (nothing can ring it in
   * between): the replaced request, and the request as it rings.
   */
  abstract putRinging(
    request: CallRequestRecord,
    agentId: string,
  ): Promise<{ replaced: CallRequestRecord | null; ringing: CallRequestRecord | null }>;

  abstract getRequest(requestId: string): Promise<CallRequestRecord | null>;

  /** Rings `agentId` with the request if it is waiting (ringing nobody). */
  abstract ring(requestId: string, agentId: string): Promise<CallRequestRecord | null>;

  /** Stops ringing `agentId` (only if it rings it), remembering why. */
  abstract release(requestId: string, agentId: string, why: RingRelease): Promise<CallRequestRecord | null>;

  /**
   * Removes and returns the request if it rings `agentId`, and stores `call` in the same step:
   * exactly one accept wins, and a request never ends claimed without its call (nor a call exists
   * whose request still rings). Null, and nothing stored, when the request does not ring the agent.
   */
  abstract claim(requestId: string, agentId: string, call: CallRecord): Promise<CallRequestRecord | null>;

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

  /**
   * Removes and returns the call: whoever ends it first, ends it once. With `ifDisconnected`, only
   * while that party is still disconnected since `at` (a reconnect timeout that lost to a reconnect
   * ends nothing).
   */
  abstract endCall(
    callId: string,
    ifDisconnected?: { role: CallRole; at: number },
  ): Promise<CallRecord | null>;

  /**
   * Records a party's connection lost (`at`) — the agent's socket is then forgotten — or back
   * (null). Null when the call is gone, or when `ifUnchanged` is given and the call moved on since
   * it was read: the party's token is no longer `tokenHash`, or (agent) the call's socket is no
   * longer `agentSocketId` — a disconnect handled late must not hold a party that already came back.
   */
  abstract setDisconnected(
    callId: string,
    role: CallRole,
    at: number | null,
    ifUnchanged?: CallUnchanged,
  ): Promise<CallRecord | null>;

  /**
   * Spends a reconnect token: if `tokenHash` is the current token of `role` in some call (whose
   * agent is `agentId`, when given), the party is marked connected (an agent on `agentSocketId`)
   * and its token replaced by `next[role]`; the peer's is replaced by `next[peer]` only if the peer
   * is connected (a disconnected peer could not receive its new token and must come back with the
   * one it holds). Single use.
   */
  abstract spendToken(spend: {
    tokenHash: string;
    role: CallRole;
    next: Record<CallRole, string>;
    agentId?: string;
    agentSocketId?: string;
  }): Promise<CallRecord | null>;

  /**
   * Marks the agent side of a held call connected again without a reconnect token (the agent logged
   * in again: a token refresh, a reload — the login proved who it is), carried by no tab in
   * particular until one speaks for it (`bindAgentSocket`). The agent's token is kept (a dashboard
   * that follows up with `call:reconnect` spends it as usual); the visitor's is replaced by
   * `nextVisitorHash` only if the visitor is connected to learn it. Null when the call is gone or
   * its agent side is connected.
   */
  abstract reattachAgent(callId: string, nextVisitorHash: string): Promise<CallRecord | null>;

  /**
   * Makes `agentSocketId` the socket that carries the call if the agent side is connected and no
   * socket carries it yet; returns the call as it is afterwards (whichever socket won), or null
   * when the call is gone.
   */
  abstract bindAgentSocket(callId: string, agentSocketId: string): Promise<CallRecord | null>;

  abstract touchCall(callId: string, now: number): Promise<void>;

  /** For the metrics gauges (read at scrape time). */
  abstract counts(): Promise<{ requests: number; calls: number }>;

  /**
   * The calls that live in this process's memory and end with it: every call of the in-memory
   * store, none of a shared store (on Redis another instance carries them on).
   */
  abstract endingWithProcess(): Promise<CallRecord[]>;
}
