import { Injectable } from '@nestjs/common';
import { CallStore } from './call.store';
import type { CallRecord, CallRequestRecord, CallRole, CallUnchanged, RingRelease } from './call.types';

/** Single-process requests and calls; each method completes without awaiting, hence atomically. */
@Injectable()
export class InMemoryCallStore extends CallStore {
  private readonly requests = new Map<string, CallRequestRecord>();
  private readonly calls = new Map<string, CallRecord>();

  putRequest(request: CallRequestRecord): Promise<CallRequestRecord | null> {
    return requestOrNull(this.put(request));
  }

  putRinging(
    request: CallRequestRecord,
    agentId: string,
  ): Promise<{ replaced: CallRequestRecord | null; ringing: CallRequestRecord | null }> {
    const replaced = this.put(request);
    const ringing = this.ringNow(request.requestId, agentId);
    return Promise.resolve({
      replaced: replaced ? cloneRequest(replaced) : null,
      ringing: ringing ? cloneRequest(ringing) : null,
    });
  }

  getRequest(requestId: string): Promise<CallRequestRecord | null> {
    return requestOrNull(this.requests.get(requestId));
  }

  ring(requestId: string, agentId: string): Promise<CallRequestRecord | null> {
    return requestOrNull(this.ringNow(requestId, agentId));
  }

  /** The visitor's previous request, which the new one replaces. */
  private put(request: CallRequestRecord): CallRequestRecord | undefined {
    const previous = [...this.requests.values()].find((r) => r.visitorId === request.visitorId);
    if (previous) this.requests.delete(previous.requestId);
    this.requests.set(request.requestId, cloneRequest(request));
    return previous;
  }

  private ringNow(requestId: string, agentId: string): CallRequestRecord | undefined {
    const request = this.requests.get(requestId);
    if (!request || request.agentId !== null) return undefined;
    request.agentId = agentId;
    request.ringSeq += 1;
    return request;
  }

  release(requestId: string, agentId: string, why: RingRelease): Promise<CallRequestRecord | null> {
    const request = this.requests.get(requestId);
    if (!request || request.agentId !== agentId) return requestOrNull(undefined);
    request.agentId = null;
    request.ringSeq += 1;
    const list = why === 'rejected' ? request.rejectedBy : request.passedBy;
    if (!list.includes(agentId)) list.push(agentId);
    return requestOrNull(request);
  }

  claim(requestId: string, agentId: string, call: CallRecord): Promise<CallRequestRecord | null> {
    const request = this.requests.get(requestId);
    if (!request || request.agentId !== agentId) return requestOrNull(undefined);
    this.requests.delete(requestId);
    this.calls.set(call.callId, cloneCall(call));
    return requestOrNull(request);
  }

  withdraw(requestId: string, visitorId: string): Promise<CallRequestRecord | null> {
    const request = this.requests.get(requestId);
    if (!request || request.visitorId !== visitorId) return requestOrNull(undefined);
    this.requests.delete(requestId);
    return requestOrNull(request);
  }

  requestOfVisitor(visitorId: string): Promise<CallRequestRecord | null> {
    return requestOrNull([...this.requests.values()].find((r) => r.visitorId === visitorId));
  }

  ringing(agentId: string): Promise<CallRequestRecord[]> {
    return this.requestsWhere((r) => r.agentId === agentId);
  }

  waitingRequests(orgId: string): Promise<CallRequestRecord[]> {
    return this.requestsWhere((r) => r.orgId === orgId && r.agentId === null);
  }

  createCall(call: CallRecord): Promise<void> {
    this.calls.set(call.callId, cloneCall(call));
    return Promise.resolve();
  }

  getCall(callId: string): Promise<CallRecord | null> {
    return callOrNull(this.calls.get(callId));
  }

  callOfAgent(agentId: string): Promise<CallRecord | null> {
    return callOrNull([...this.calls.values()].find((c) => c.agentId === agentId));
  }

  callOfVisitor(visitorId: string): Promise<CallRecord | null> {
    return callOrNull([...this.calls.values()].find((c) => c.visitorId === visitorId));
  }

  endCall(callId: string, ifDisconnected?: { role: CallRole; at: number }): Promise<CallRecord | null> {
    const call = this.calls.get(callId);
    if (!call || (ifDisconnected && call.disconnectedAt[ifDisconnected.role] !== ifDisconnected.at))
      return callOrNull(undefined);
    this.calls.delete(callId);
    return callOrNull(call);
  }

  setDisconnected(
    callId: string,
    role: CallRole,
    at: number | null,
    ifUnchanged?: CallUnchanged,
  ): Promise<CallRecord | null> {
    const call = this.calls.get(callId);
    if (call && ifUnchanged && !unchanged(call, role, ifUnchanged)) return callOrNull(undefined);
    if (call) {
      call.disconnectedAt[role] = at;
      if (role === 'agent' && at !== null) call.agentSocketId = null;
    }
    return callOrNull(call);
  }

  spendToken(spend: {
    tokenHash: string;
    role: CallRole;
    next: Record<CallRole, string>;
    agentId?: string;
    agentSocketId?: string;
  }): Promise<CallRecord | null> {
    const { tokenHash, role, agentId } = spend;
    const call = [...this.calls.values()].find((c) => c.tokenHashes[role] === tokenHash);
    if (!call || (agentId !== undefined && call.agentId !== agentId)) return callOrNull(undefined);
    rotate(call, role, spend.next);
    if (role === 'agent' && spend.agentSocketId !== undefined) call.agentSocketId = spend.agentSocketId;
    return callOrNull(call);
  }

  reattachAgent(callId: string, nextVisitorHash: string): Promise<CallRecord | null> {
    const call = this.calls.get(callId);
    if (!call || call.disconnectedAt.agent === null) return callOrNull(undefined);
    call.disconnectedAt.agent = null;
    call.agentSocketId = null;
    if (call.disconnectedAt.visitor === null) call.tokenHashes.visitor = nextVisitorHash;
    return callOrNull(call);
  }

  bindAgentSocket(callId: string, agentSocketId: string): Promise<CallRecord | null> {
    const call = this.calls.get(callId);
    if (call && call.agentSocketId === null && call.disconnectedAt.agent === null)
      call.agentSocketId = agentSocketId;
    return callOrNull(call);
  }

  touchCall(callId: string, now: number): Promise<void> {
    const call = this.calls.get(callId);
    if (call) call.lastHeartbeatAt = now;
    return Promise.resolve();
  }

  counts(): Promise<{ requests: number; calls: number }> {
    return Promise.resolve({ requests: this.requests.size, calls: this.calls.size });
  }

  endingWithProcess(): Promise<CallRecord[]> {
    return Promise.resolve([...this.calls.values()].map(cloneCall));
  }

  private requestsWhere(predicate: (request: CallRequestRecord) => boolean): Promise<CallRequestRecord[]> {
    const matches = [...this.requests.values()].filter(predicate).map(cloneRequest);
    return Promise.resolve(matches.sort((a, b) => a.requestedAt - b.requestedAt));
  }
}

/** `role` is back: its token and, when the peer is connected to receive it, the peer's rotate. */
function rotate(call: CallRecord, role: CallRole, next: Record<CallRole, string>): void {
  const peer: CallRole = role === 'agent' ? 'visitor' : 'agent';
  call.tokenHashes[role] = next[role];
  if (call.disconnectedAt[peer] === null) call.tokenHashes[peer] = next[peer];
  call.disconnectedAt[role] = null;
}

function cloneRequest(request: CallRequestRecord): CallRequestRecord {
  return { ...request, rejectedBy: [...request.rejectedBy], passedBy: [...request.passedBy] };
}

function cloneCall(call: CallRecord): CallRecord {
  return { ...call, tokenHashes: { ...call.tokenHashes }, disconnectedAt: { ...call.disconnectedAt } };
}

function requestOrNull(request: CallRequestRecord | undefined): Promise<CallRequestRecord | null> {
  return Promise.resolve(request ? cloneRequest(request) : null);
}

function callOrNull(call: CallRecord | undefined): Promise<CallRecord | null> {
  return Promise.resolve(call ? cloneCall(call) : null);
}

function unchanged(call: CallRecord, role: CallRole, expected: CallUnchanged): boolean {
  return (
    call.tokenHashes[role] === expected.tokenHash &&
    (role !== 'agent' || call.agentSocketId === expected.agentSocketId)
  );
}
