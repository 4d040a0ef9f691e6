import { Injectable } from '@nestjs/common';
import { RedisConnections } from '../../common/redis/redis-connections.service';
import { RedisScript } from '../../common/redis/redis-script';
import { CallStore } from './call.store';
import type { CallRecord, CallRequestRecord, CallRole, CallUnchanged, RingRelease } from './call.types';

/** Every key of a request or a call outlives its last write by this much (a vanished instance leaks nothing). */
export const STATE_TTL_MS = 48 * 3_600_000;

const REQUESTS = new RedisScript(__dirname, 'call-store-requests.lua', 0);
const CALLS = new RedisScript(__dirname, 'call-store-calls.lua', 0);

/**
 * Requests and calls of a deployment on Redis, shared by its instances. Every operation is one
 * atomic step — a GET, or one run of `call-store-requests.lua` / `call-store-calls.lua` — so a
 * claim, a ring, an end, a token spend wins exactly once across instances, and each index changes
 * in the same step as its record.
 *
 * Keys (under `REDIS_PREFIX`): `request:<requestId>` and `call:<callId>` hold the records as JSON;
 * `requests` and `calls` are sorted sets of the ids by insertion sequence (the counts, and the tie
 * order of the in-memory store's scans); `visitor-request:<visitorId>` names the visitor's pending
 * request; `agent-rings:<agentId>` and `org-waiting:<orgId>` are sorted sets of request ids by
 * `requestedAt` (ringing the agent, ringing nobody); `agent-calls:<agentId>`,
 * `visitor-calls:<visitorId>` and `call-token:<role>:<tokenHash>` are sorted sets of call ids by
 * insertion sequence (an agent may hold a call while in a newer one: the oldest answers). Each key
 * gets {@link STATE_TTL_MS} again whenever it or its record is written; emptied sets vanish.
 * (Should a record expire first, untouched for that long, the lookups skip its id.)
 *
 * The scripts build the keys named inside records from the prefix, so the store needs one Redis
 * node (not a cluster). Numbers pass through Redis's cjson, exact to 14 significant digits: epoch
 * milliseconds and counters, as the records hold.
 */
@Injectable()
export class RedisCallStore extends CallStore {
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  async putRequest(request: CallRequestRecord): Promise<CallRequestRecord | null> {
    return toRequest(await this.requests('put', JSON.stringify(request)));
  }

  async putRinging(
    request: CallRequestRecord,
    agentId: string,
  ): Promise<{ replaced: CallRequestRecord | null; ringing: CallRequestRecord | null }> {
    const [replaced, ringing] = (await this.requests('putRinging', JSON.stringify(request), agentId)) as [
      string | null,
      string | null,
    ];
    return { replaced: toRequest(replaced), ringing: toRequest(ringing) };
  }

  async getRequest(requestId: string): Promise<CallRequestRecord | null> {
    return toRequest(await this.connections.command.get(this.connections.key('request', requestId)));
  }

  async ring(requestId: string, agentId: string): Promise<CallRequestRecord | null> {
    return toRequest(await this.requests('ring', requestId, agentId));
  }

  async release(requestId: string, agentId: string, why: RingRelease): Promise<CallRequestRecord | null> {
    return toRequest(await this.requests('release', requestId, agentId, why));
  }

  /**
   * One MULTI of two scripts: the calls script stores the call only if the request rings the agent,
   * then the requests script claims it under the same condition and only if that call exists.
   * Nothing runs between the two, so both happen or neither does (MULTI never rolls back: should
   * the first fail, the second finds no call and leaves the request ringing). (EVAL, not EVALSHA: a script missing after a Redis restart would
   * fail one half of the transaction alone.)
   */
  async claim(requestId: string, agentId: string, call: CallRecord): Promise<CallRequestRecord | null> {
    const prefix = this.connections.key();
    const replies = await this.connections.command
      .multi()
      .eval(CALLS.source, 0, prefix, STATE_TTL_MS, 'createClaiming', JSON.stringify(call), requestId, agentId)
      .eval(REQUESTS.source, 0, prefix, STATE_TTL_MS, 'claim', requestId, agentId, call.callId)
      .exec();
    if (!replies) throw new Error('the accept transaction was discarded');
    for (const [error] of replies) if (error) throw error;
    return toRequest(replies[1][1]);
  }

  async withdraw(requestId: string, visitorId: string): Promise<CallRequestRecord | null> {
    return toRequest(await this.requests('withdraw', requestId, visitorId));
  }

  async requestOfVisitor(visitorId: string): Promise<CallRequestRecord | null> {
    return toRequest(await this.requests('ofVisitor', visitorId));
  }

  async ringing(agentId: string): Promise<CallRequestRecord[]> {
    return toRequests(await this.requests('ringing', agentId));
  }

  async waitingRequests(orgId: string): Promise<CallRequestRecord[]> {
    return toRequests(await this.requests('waiting', orgId));
  }

  async createCall(call: CallRecord): Promise<void> {
    await this.calls('create', call);
  }

  async getCall(callId: string): Promise<CallRecord | null> {
    return toCall(await this.connections.command.get(this.connections.key('call', callId)));
  }

  async callOfAgent(agentId: string): Promise<CallRecord | null> {
    return toCall(await this.calls('ofAgent', { agentId }));
  }

  async callOfVisitor(visitorId: string): Promise<CallRecord | null> {
    return toCall(await this.calls('ofVisitor', { visitorId }));
  }

  async endCall(callId: string, ifDisconnected?: { role: CallRole; at: number }): Promise<CallRecord | null> {
    return toCall(await this.calls('endCall', { callId, ifDisconnected }));
  }

  async setDisconnected(
    callId: string,
    role: CallRole,
    at: number | null,
    ifUnchanged?: CallUnchanged,
  ): Promise<CallRecord | null> {
    return toCall(await this.calls('setDisconnected', { callId, role, at, ifUnchanged }));
  }

  async spendToken(spend: {
    tokenHash: string;
    role: CallRole;
    next: Record<CallRole, string>;
    agentId?: string;
    agentSocketId?: string;
  }): Promise<CallRecord | null> {
    return toCall(await this.calls('spend', spend));
  }

  async reattachAgent(callId: string, nextVisitorHash: string): Promise<CallRecord | null> {
    return toCall(await this.calls('reattach', { callId, nextVisitorHash }));
  }

  async bindAgentSocket(callId: string, agentSocketId: string): Promise<CallRecord | null> {
    return toCall(await this.calls('bind', { callId, agentSocketId }));
  }

  async touchCall(callId: string, now: number): Promise<void> {
    await this.calls('touch', { callId, now });
  }

  async counts(): Promise<{ requests: number; calls: number }> {
    const [requests, calls] = (await this.calls('counts', {})) as [number, number];
    return { requests, calls };
  }

  endingWithProcess(): Promise<CallRecord[]> {
    return Promise.resolve([]);
  }

  private requests(operation: string, ...args: string[]): Promise<unknown> {
    return REQUESTS.run(
      this.connections.command,
      [],
      [this.connections.key(), STATE_TTL_MS, operation, ...args],
    );
  }

  /** `args` go as one JSON object (absent optional fields stay absent, null stays null). */
  private calls(operation: string, args: object): Promise<unknown> {
    return CALLS.run(
      this.connections.command,
      [],
      [this.connections.key(), STATE_TTL_MS, operation, JSON.stringify(args)],
    );
  }
}

/** cjson writes an empty array as `{}`. */
function list(value: unknown): string[] {
  return Array.isArray(value) ? (value as string[]) : [];
}

function toRequest(raw: unknown): CallRequestRecord | null {
  if (typeof raw !== 'string') return null;
  const request = JSON.parse(raw) as CallRequestRecord;
  return { ...request, rejectedBy: list(request.rejectedBy), passedBy: list(request.passedBy) };
}

function toRequests(raws: unknown): CallRequestRecord[] {
  return (raws as string[]).map((raw) => toRequest(raw)!);
}

function toCall(raw: unknown): CallRecord | null {
  return typeof raw === 'string' ? (JSON.parse(raw) as CallRecord) : null;
}
