import { Injectable, Logger } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { AgentSpeaker, VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import { Clock } from '../../common/clock.service';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { Scheduler } from '../../common/scheduler.service';
import { ClientNotifier } from '../client-notifier';
import { isAvailable, PresenceService } from '../presence/presence.service';
import type { AgentPresence, PresenceChange } from '../presence/presence.types';
import type { AssignmentReason } from '../protocol';
import { RoutingService, servesPool } from '../routing/routing.service';
import { VisitorService } from '../visitors/visitor.service';
import type { VisitorRecord } from '../visitors/visitor.types';
import { organizationOf, RNA, type RingDeadline, rnaKey } from './call-deadlines';
import { requestView, visitorView } from './call-views';
import { CallStore } from './call.store';
import type { CallRecord, CallRequestRecord } from './call.types';

/**
 * Visitors' call requests until one is answered (PROTOCOL §3): request → ring (RNA timer) →
 * reject / cancel / pass on → ring the next agent, or tell the visitor no agent is available.
 * Every operation checks that the sender is a party of what it names (PROTOCOL §2 "P"):
 * someone else's request is CALL_NOT_FOUND (its existence is not revealed) and recorded as
 * `auth.forbidden` through the error's reason.
 */
@Injectable()
export class CallRequests {
  private readonly logger = new Logger(CallRequests.name);

  constructor(
    private readonly calls: CallStore,
    private readonly visitors: VisitorService,
    private readonly presence: PresenceService,
    private readonly routing: RoutingService,
    private readonly directory: AgentDirectory,
    private readonly notifier: ClientNotifier,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
  ) {
    // Deadlines are data (they may fire on another instance): the handler of its kind, by name.
    scheduler.define<RingDeadline>(RNA, ({ requestId, agentId, seq }) =>
      this.ringTimedOut(requestId, agentId, seq),
    );
  }

  // ── The visitor's side ───────────────────────────────────────────────────────────────────

  /**
   * `call:request`: one pending request per visitor (a new one replaces it). The named agent rings
   * if it belongs to the visitor's organisation and is available; otherwise routing chooses — an
   * agent of another organisation is treated as if none had been named (nothing is revealed).
   */
  async request(party: VisitorSpeaker, agentId: string): Promise<{ requestId: string }> {
    // Three independent reads side by side (each a round trip when the state is shared); the
    // named agent's presence is only used once the visitor proved to be live and free.
    const [visitor, inCall, named] = await Promise.all([
      this.visitors.requireLive(party),
      this.calls.callOfVisitor(party.visitorId),
      this.presence.get(agentId),
    ]);
    if (inCall) throw new DomainError(ErrorCode.Forbidden, 'You are already in a call.', 'already_in_call');
    const request: CallRequestRecord = {
      requestId: `req_${uuidv7()}`,
      visitorId: visitor.visitorId,
      orgId: visitor.orgId,
      poolId: visitor.poolId,
      pageUrl: visitor.pageUrl,
      requestedAt: this.clock.now(),
      agentId: null,
      ringSeq: 0,
      rejectedBy: [],
      passedBy: [],
    };
    // The named agent rings only if it could have been routed this visitor: same organisation, its
    // pool, available. Otherwise routing chooses, and nothing tells the visitor why.
    const target =
      named && named.orgId === visitor.orgId && servesPool(named, visitor.poolId) && isAvailable(named)
        ? named
        : await this.routing.chooseAgent(visitor.orgId, visitor.poolId);
    if (!target) {
      const replaced = await this.calls.putRequest(request);
      if (replaced) await this.stopRinging(replaced);
      this.tellNoAgent(visitor, 'no_agent_available');
      return { requestId: request.requestId };
    }
    // Stored and rung in one step. The replaced request's agent hears of it first, then the new
    // request rings — both before anything is awaited (see `ring`).
    const { replaced, ringing } = await this.calls.putRinging(request, target.agentId);
    const stopped = replaced ? this.stopRinging(replaced) : null;
    const rung = ringing ? this.rang(ringing, target.agentId, visitor) : null;
    await Promise.all([stopped, rung]);
    return { requestId: request.requestId };
  }

  /**
   * `call:cancel`: only the visitor who asked. The existing widget never learns the server's
   * `requestId` and cancels with a placeholder of its own (`pending_<ms>`): an id that is none of
   * this visitor's requests stands for its pending request, if it has one. Nobody else's request is
   * ever touched, and another visitor's id reveals nothing: it is answered as an unknown one.
   */
  async cancel(party: VisitorSpeaker, requestId: string): Promise<void> {
    await this.visitors.requireLive(party);
    const named = await this.calls.getRequest(requestId);
    const own =
      named?.visitorId === party.visitorId ? named : await this.calls.requestOfVisitor(party.visitorId);
    if (!own)
      throw new DomainError(ErrorCode.CallNotFound, undefined, named ? 'not_request_owner' : undefined);
    const withdrawn = await this.calls.withdraw(own.requestId, party.visitorId);
    if (!withdrawn) throw new DomainError(ErrorCode.CallNotFound);
    await this.stopRinging(withdrawn);
  }

  /** A visitor whose session ended (it left, not in a call): its pending request, if any, is withdrawn. */
  async withdrawOf(visitorId: string): Promise<void> {
    const request = await this.calls.requestOfVisitor(visitorId);
    const withdrawn = request ? await this.calls.withdraw(request.requestId, visitorId) : null;
    if (withdrawn) await this.stopRinging(withdrawn);
  }

  // ── The agent's side ─────────────────────────────────────────────────────────────────────

  /** The request, if it rings this agent now (CALL_NOT_FOUND otherwise): what `call:accept` names. */
  async ringingFor(agent: AgentSpeaker, requestId: string): Promise<CallRequestRecord> {
    const request = await this.calls.getRequest(requestId);
    this.assertRingsAgent(request, agent);
    return request;
  }

  /**
   * The call's agent takes the request and the call is stored, in one step: the request stops
   * ringing for good, or null (and no call) when another agent or the visitor got there first.
   */
  claim(requestId: string, call: CallRecord): Promise<CallRequestRecord | null> {
    return this.calls.claim(requestId, call.agentId, call);
  }

  /** `call:reject`: re-routed to another agent (never the rejecter again); the visitor is told. */
  async reject(agent: AgentSpeaker, requestId: string, reason?: string): Promise<void> {
    const request = await this.calls.getRequest(requestId);
    this.assertRingsAgent(request, agent);
    const released = await this.calls.release(requestId, agent.agentId, 'rejected');
    if (!released) throw new DomainError(ErrorCode.CallNotFound);
    await this.scheduler.cancel(rnaKey(requestId));
    this.notifier.toAgent(agent.agentId, 'call:cancelled', { requestId });
    this.notifier.toVisitor(released.visitorId, 'call:rejected', {
      requestId,
      ...(reason !== undefined ? { reason } : {}),
    });
    await this.reroute(released, 'agent_away');
  }

  // ── Agents' availability ─────────────────────────────────────────────────────────────────

  /** An agent became available: waiting visitors of its pools, then its oldest waiting request. */
  async agentAvailable(agent: AgentPresence): Promise<void> {
    await this.routing.pickUpWaiting(agent);
    for (const request of await this.calls.waitingRequests(agent.orgId)) {
      if (request.rejectedBy.includes(agent.agentId)) continue;
      if (request.poolId !== null && !agent.pools.includes(request.poolId)) continue;
      if (await this.ring(request, agent.agentId)) return;
    }
  }

  /**
   * An agent stopped taking calls: whatever rang it goes to someone else; it cannot answer now.
   * Unless it merely lost its last socket (the disconnect grace), its visitors are reassigned too.
   */
  async agentUnavailable(change: Exclude<PresenceChange, { kind: 'available' }>): Promise<void> {
    const { agentId } = change.presence;
    await this.passRingsOf(agentId, change.kind === 'disconnected' ? 'agent_offline' : change.reason);
    if (change.kind === 'disconnected') return;
    await this.routing.reassignVisitorsOf(agentId, change.reason);
  }

  /** Every request ringing this agent rings someone else (it left, went away or took a call). */
  async passRingsOf(agentId: string, reason: AssignmentReason): Promise<void> {
    for (const request of await this.calls.ringing(agentId)) {
      const released = await this.calls.release(request.requestId, agentId, 'passed');
      if (!released) continue;
      await this.scheduler.cancel(rnaKey(request.requestId));
      this.notifier.toAgent(agentId, 'call:cancelled', { requestId: request.requestId });
      await this.reroute(released, reason);
    }
  }

  // ── Ringing ──────────────────────────────────────────────────────────────────────────────

  /** Rings `agentId` with a waiting request and starts a fresh RNA timer. */
  private async ring(request: CallRequestRecord, agentId: string): Promise<boolean> {
    // Read first: nothing may be awaited between the ring and its call:incoming, or a request
    // replaced in between would reach the agent after its call:cancelled.
    const visitor = await this.visitors.get(request.visitorId);
    const ringing = await this.calls.ring(request.requestId, agentId);
    if (!ringing) return false;
    await this.rang(ringing, agentId, visitor);
    return true;
  }

  /**
   * A request that rings `agentId` now: the agent's `call:incoming`, sent before anything is
   * awaited, and a fresh RNA timer.
   */
  private async rang(
    ringing: CallRequestRecord,
    agentId: string,
    visitor: VisitorRecord | null,
  ): Promise<void> {
    this.notifier.toAgent(agentId, 'call:incoming', {
      request: requestView(ringing, agentId),
      visitor: visitor
        ? visitorView(visitor)
        : {
            visitorId: ringing.visitorId,
            pageUrl: ringing.pageUrl,
            connectedAt: ringing.requestedAt,
            location: null,
          },
    });
    const rnaMs = organizationOf(this.directory, ringing.orgId).rnaTimeoutSeconds * 1000;
    await this.scheduler.deadline<RingDeadline>(RNA, ringing.requestId, rnaMs, {
      requestId: ringing.requestId,
      agentId,
      seq: ringing.ringSeq,
    });
  }

  /**
   * Ring-no-answer (PROTOCOL §3): the agent is marked away (its visitors reassigned, its other
   * rings passed on) and the request rings the next agent, with a fresh timer, until none is left.
   */
  private async ringTimedOut(requestId: string, agentId: string, seq: number): Promise<void> {
    const current = await this.calls.getRequest(requestId);
    if (!current || current.agentId !== agentId || current.ringSeq !== seq) return;
    const released = await this.calls.release(requestId, agentId, 'passed');
    if (!released) return;
    this.logger.log(`request ${requestId}: no answer from agent ${agentId}`);
    this.notifier.toAgent(agentId, 'call:rna_timeout', {
      requestId,
      visitorId: released.visitorId,
      reason: 'ring_no_answer',
    });
    this.notifier.toAgent(agentId, 'call:cancelled', { requestId });
    await this.presence.markAway(agentId, 'ring_no_answer');
    await this.reroute(released, 'ring_no_answer');
  }

  /** Rings the next agent that has not passed on or rejected the request, else it waits. */
  private async reroute(request: CallRequestRecord, reason: AssignmentReason): Promise<void> {
    const fresh = await this.calls.getRequest(request.requestId);
    if (!fresh || fresh.agentId !== null) return;
    const next = await this.routing.chooseAgent(fresh.orgId, fresh.poolId, {
      exclude: [...fresh.rejectedBy, ...fresh.passedBy],
    });
    if (next && (await this.ring(fresh, next.agentId))) return;
    const visitor = await this.visitors.get(fresh.visitorId);
    if (visitor) this.tellNoAgent(visitor, reason);
  }

  /** A request that stopped ringing for good (withdrawn or replaced): its agent is told. */
  private async stopRinging(request: CallRequestRecord): Promise<void> {
    // Told before anything is awaited: a caller may ring a new request right after.
    if (request.agentId)
      this.notifier.toAgent(request.agentId, 'call:cancelled', { requestId: request.requestId });
    await this.scheduler.cancel(rnaKey(request.requestId));
  }

  private tellNoAgent(visitor: VisitorRecord, reason: AssignmentReason): void {
    this.notifier.toVisitor(visitor.visitorId, 'agent:unavailable', {
      visitorId: visitor.visitorId,
      widgetSettings: this.routing.widgetSettings(visitor),
      poolId: visitor.poolId,
      reason,
    });
  }

  // ── Ownership ────────────────────────────────────────────────────────────────────────────

  private assertRingsAgent(
    request: CallRequestRecord | null,
    agent: AgentSpeaker,
  ): asserts request is CallRequestRecord {
    if (!request) throw new DomainError(ErrorCode.CallNotFound);
    if (request.agentId !== agent.agentId)
      throw new DomainError(
        ErrorCode.CallNotFound,
        undefined,
        request.orgId === agent.orgId ? 'not_ringing_agent' : 'cross_organization',
      );
  }
}
