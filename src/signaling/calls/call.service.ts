import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import { Clock } from '../../common/clock.service';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { deadlineKey, Scheduler } from '../../common/scheduler.service';
import { AppConfig } from '../../config/app-config';
import { CallLog, CallLogEntry } from '../../call-log/call-log';
import { ClientNotifier } from '../client-notifier';
import type { Organization } from '../../auth/directory/directory.types';
import type { VisitorBinding } from '../visitor-binder';
import type { AgentSpeaker, Speaker, VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import { isAvailable, PresenceService, profileOf } from '../presence/presence.service';
import type { AgentPresence, PresenceChange } from '../presence/presence.types';
import type {
  AssignmentReason,
  CallEndReason,
  CallRequestView,
  CallView,
  ServerEvents,
  VisitorView,
} from '../protocol';
import { RoutingService, servesPool } from '../routing/routing.service';
import { SignalingMetrics } from '../signaling-metrics.service';
import { VisitorService } from '../visitors/visitor.service';
import type { VisitorRecord } from '../visitors/visitor.types';
import { CallStore } from './call.store';
import type { CallRecord, CallRequestRecord, CallRole } from './call.types';
import { hashReconnectToken, newReconnectToken } from './reconnect-token';

/**
 * The call lifecycle of PROTOCOL §3: request → ring (RNA timer) → accept exactly once / reject /
 * cancel → active → end, with the reconnect hold and rotating reconnect tokens, and max duration.
 * Every operation checks that the sender is a party of what it names (PROTOCOL §2 "P") after the
 * gateway has validated the payload: someone else's request or call is CALL_NOT_FOUND (its
 * existence is not revealed) and recorded as `auth.forbidden` through the error's reason.
 */
@Injectable()
export class CallService implements OnModuleInit {
  private readonly logger = new Logger(CallService.name);

  constructor(
    private readonly calls: CallStore,
    private readonly visitors: VisitorService,
    private readonly presence: PresenceService,
    private readonly routing: RoutingService,
    private readonly directory: AgentDirectory,
    private readonly notifier: ClientNotifier,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: SignalingMetrics,
    private readonly callLog: CallLog,
  ) {
    // Deadlines are data (they may fire on another instance): each kind's handler, by name.
    scheduler.define<RingDeadline>(RNA, ({ requestId, agentId, seq }) =>
      this.ringTimedOut(requestId, agentId, seq),
    );
    scheduler.define<ReconnectDeadline>(RECONNECT, ({ callId, role, at }) =>
      this.reconnectTimedOut(callId, role, at),
    );
    scheduler.define<CallDeadline>(MAX_DURATION, async ({ callId }) => {
      await this.finish(callId, 'max_duration', 'The call reached its maximum duration.');
    });
  }

  onModuleInit(): void {
    this.presence.onChange((change) => this.onPresenceChange(change));
  }

  // ── Visitors ─────────────────────────────────────────────────────────────────────────────

  /**
   * `visitor:join`. An unknown organisation is refused before anything changes; a paused one is
   * reported. A socket holds one session: joining again (another page) ends the previous session
   * first — unless it is in a call, which a page change must not disturb: then nothing changes.
   */
  async join(
    previous: VisitorSpeaker | null,
    input: { orgId: string; pageUrl: string; visitorId?: string },
    socketId: string,
    binding: VisitorBinding,
  ): Promise<JoinOutcome> {
    const admission = this.visitors.admit(input.orgId);
    if (admission.kind === 'paused') return admission;
    if (previous) {
      if (await this.calls.callOfVisitor(previous.visitorId))
        return { kind: 'joined', visitorId: previous.visitorId };
      await this.visitorLeft(previous);
      await binding.unbind();
    }
    const visitor = await this.visitors.register(admission.organization, input, socketId, (session) =>
      binding.bind(session),
    );
    return { kind: 'joined', visitorId: visitor.visitorId };
  }

  // ── Requests ─────────────────────────────────────────────────────────────────────────────

  /**
   * `call:request`: one pending request per visitor (a new one replaces it). The named agent rings
   * if it belongs to the visitor's organisation and is available; otherwise routing chooses — an
   * agent of another organisation is treated as if none had been named (nothing is revealed).
   */
  async request(party: VisitorSpeaker, agentId: string): Promise<{ requestId: string }> {
    const visitor = await this.visitors.requireLive(party);
    if (await this.calls.callOfVisitor(visitor.visitorId))
      throw new DomainError(ErrorCode.Forbidden, 'You are already in a call.', 'already_in_call');
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
    const replaced = await this.calls.putRequest(request);
    if (replaced) await this.stopRinging(replaced);

    // The named agent rings only if it could have been routed this visitor: same organisation, its
    // pool, available. Otherwise routing chooses, and nothing tells the visitor why.
    const named = await this.presence.get(agentId);
    const target =
      named && named.orgId === visitor.orgId && servesPool(named, visitor.poolId) && isAvailable(named)
        ? named
        : await this.routing.chooseAgent(visitor.orgId, visitor.poolId);
    if (target) await this.ring(request, target.agentId);
    else this.tellNoAgent(visitor, 'no_agent_available');
    return { requestId: request.requestId };
  }

  /** `call:accept`: only the agent the request rings, exactly once, one call per agent. */
  async accept(agent: AgentSpeaker, requestId: string): Promise<{ callId: string }> {
    const request = await this.calls.getRequest(requestId);
    this.assertRingsAgent(request, agent);
    const visitor = await this.visitors.get(request.visitorId);
    if (!visitor) throw new DomainError(ErrorCode.CallNotFound);
    // Only an idle agent enters a call: a tab that lost the race (the agent is in_call now) or an
    // agent marked away meanwhile is told the request is gone. The claim below settles races
    // between agents; entering is undone when it fails.
    if (!(await this.presence.enterCall(agent.agentId, visitor.visitorId)))
      throw new DomainError(ErrorCode.CallNotFound);
    const claimed = await this.calls.claim(requestId, agent.agentId);
    if (!claimed) {
      await this.presence.abandonCall(agent.agentId);
      throw new DomainError(ErrorCode.CallNotFound);
    }
    await this.scheduler.cancel(rnaKey(requestId));

    const agentToken = newReconnectToken();
    const visitorToken = newReconnectToken();
    const now = this.clock.now();
    const call: CallRecord = {
      callId: `call_${uuidv7()}`,
      callLogId: uuidv7(),
      requestId,
      visitorId: visitor.visitorId,
      agentId: agent.agentId,
      agentSocketId: agent.socketId,
      orgId: visitor.orgId,
      pageUrl: claimed.pageUrl,
      requestedAt: claimed.requestedAt,
      startedAt: now,
      tokenHashes: { agent: agentToken.hash, visitor: visitorToken.hash },
      disconnectedAt: { agent: null, visitor: null },
      lastHeartbeatAt: now,
    };
    await this.calls.createCall(call);
    this.callLog.started(logEntry(call));
    this.notifier.toVisitor(visitor.visitorId, 'call:accepted', {
      callId: call.callId,
      agentId: agent.agentId,
      reconnectToken: visitorToken.token,
    });
    // Only the tab that accepted carries the call (each tab given `call:started` would open the
    // camera and send its own offer); the agent's other tabs stop ringing.
    this.notifier.toSocket(agent.socketId, 'call:started', {
      call: callView(call),
      visitor: visitorView(visitor),
      reconnectToken: agentToken.token,
    });
    this.notifier.toAgentExcept(agent.agentId, agent.socketId, 'call:cancelled', {
      requestId,
      reason: 'answered_elsewhere',
    });
    const maxMs = this.organization(call.orgId).maxCallDurationMinutes * 60_000;
    await this.scheduler.deadline<CallDeadline>(MAX_DURATION, call.callId, maxMs, { callId: call.callId });
    // The agent is busy now: whatever else rang it goes to someone else.
    await this.passRingsOf(agent.agentId, 'agent_busy');
    return { callId: call.callId };
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

  // ── Calls ────────────────────────────────────────────────────────────────────────────────

  /** `call:end` from either party. */
  async end(party: Speaker, callId: string): Promise<void> {
    const { call } = await this.callOfParty(party, callId);
    await this.finish(call.callId, party.kind === 'agent' ? 'agent_ended' : 'visitor_ended');
  }

  /** `call:heartbeat`: a party proves it still holds its current reconnect token. */
  async heartbeat(party: Speaker, callId: string, reconnectToken: string): Promise<void> {
    const { call, role } = await this.callOfParty(party, callId);
    if (call.tokenHashes[role] !== hashReconnectToken(reconnectToken))
      throw new DomainError(ErrorCode.CallNotFound, undefined, 'invalid_reconnect_token');
    await this.calls.touchCall(call.callId, this.clock.now());
    if (party.kind === 'agent') {
      // Only the tab that holds the call's token can send this: it carries the call.
      await this.speaksForCall(call, party.socketId);
      await this.presence.heartbeat(party.agentId);
    }
  }

  /**
   * `call:reconnect`: the token is spent (single use, bound to its call and role), both tokens
   * rotate, and both parties get `call:reconnected` with their own new token. An agent must be
   * logged in as the call's agent; a visitor's token is its credential, and `bind` moves its
   * session to this socket.
   */
  async reconnect(
    party: Speaker,
    socketId: string,
    reconnectToken: string,
    role: CallRole,
    binding: VisitorBinding,
  ): Promise<{ callId: string }> {
    // The guard already refused an agent role from a socket that is not logged in; a logged-in
    // agent's socket does not become a visitor.
    if ((role === 'agent') !== (party.kind === 'agent'))
      throw new DomainError(ErrorCode.CallNotFound, undefined, 'role_mismatch');
    const tokens = newTokenPair();
    const call = await this.calls.spendToken({
      tokenHash: hashReconnectToken(reconnectToken),
      role,
      next: { agent: tokens.agent.hash, visitor: tokens.visitor.hash },
      ...(party.kind === 'agent' ? { agentId: party.agentId, agentSocketId: party.socketId } : {}),
    });
    if (!call) throw new DomainError(ErrorCode.CallNotFound, undefined, 'invalid_reconnect_token');
    await this.scheduler.cancel(reconnectKey(call.callId, role));

    if (role === 'visitor') {
      // The socket's own session, if it held another one, ends first (and its room is left).
      if (party.kind === 'visitor' && party.visitorId !== call.visitorId) {
        await this.visitorLeft(party);
        await binding.unbind();
      }
      await this.visitors.resume(call.visitorId, socketId);
      await binding.bind({ visitorId: call.visitorId, orgId: call.orgId });
    } else if (!(await this.presence.resumeCall(call.agentId, call.visitorId))) {
      // The agent took another call while this one was on hold: this one cannot resume.
      await this.finish(call.callId, 'error', 'The agent is in another call.');
      throw new DomainError(ErrorCode.CallNotFound);
    }
    this.announceResumed(call, tokens);
    this.logger.log(`call ${call.callId}: ${role} reconnected`);
    return { callId: call.callId };
  }

  /**
   * An agent's socket left — closed, logged out (a token refresh), or its refresh was refused. If
   * it carried the agent's call, the call is held for the agent's return, whether or not the agent
   * has other tabs: the media and the signals were this tab's. A call no tab has spoken for yet
   * (resumed by a login) is held when the agent has no tab left.
   */
  async agentSocketLeft(agentId: string, socketId: string): Promise<void> {
    const call = await this.calls.callOfAgent(agentId);
    if (!call || call.disconnectedAt.agent !== null) return;
    const carried = call.agentSocketId === socketId;
    const unclaimed = call.agentSocketId === null && !(await this.presence.isConnected(agentId));
    if (carried || unclaimed) await this.partyDisconnected(call, 'agent');
  }

  /**
   * An agent logged in. A call of its held for the agent's return resumes: the existing dashboard
   * refreshes its token hourly by logging out, reconnecting and logging in again, and expects its
   * call to survive that without a `call:reconnect`. Which tab carries the call is not known
   * (every tab of an agent refreshes at about the same time): the call's traffic goes to all of
   * them until one speaks for it. The agent's reconnect token stays as it was; the visitor, told
   * it was reconnecting, gets `call:reconnected` with a new token of its own.
   */
  async agentLoggedIn(agent: AgentSpeaker): Promise<void> {
    const held = await this.calls.callOfAgent(agent.agentId);
    if (!held || held.disconnectedAt.agent === null) return;
    const visitorToken = newReconnectToken();
    const call = await this.calls.reattachAgent(held.callId, visitorToken.hash);
    if (!call) return;
    await this.scheduler.cancel(reconnectKey(call.callId, 'agent'));
    if (!(await this.presence.resumeCall(agent.agentId, call.visitorId))) {
      await this.finish(call.callId, 'error', 'The agent is in another call.');
      return;
    }
    if (call.tokenHashes.visitor === visitorToken.hash) this.tellVisitorReconnected(call, visitorToken.token);
    this.logger.log(`call ${call.callId}: agent back on a new login`);
  }

  /**
   * Whether the agent's `socketId` may speak for its call: it carries it, or no tab does yet and
   * this one is first (it becomes the one).
   */
  async speaksForCall(call: CallRecord, socketId: string): Promise<boolean> {
    if (call.agentSocketId === socketId) return true;
    if (call.agentSocketId !== null || call.disconnectedAt.agent !== null) return false;
    return (await this.calls.bindAgentSocket(call.callId, socketId))?.agentSocketId === socketId;
  }

  /**
   * What the call sends the agent's side: to the tab that carries it; to every tab of the agent
   * while none is known to (after a login resumed it); to nobody while the agent is away.
   */
  toCallAgent<E extends keyof ServerEvents>(
    call: CallRecord,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    if (call.agentSocketId) this.notifier.toSocket(call.agentSocketId, event, ...args);
    else if (call.disconnectedAt.agent === null) this.notifier.toAgent(call.agentId, event, ...args);
  }

  /**
   * A visitor's socket closed or it sent `visitor:disconnect`. In a call, the call is held for the
   * reconnect grace; otherwise the session ends and its pending request is withdrawn.
   */
  async visitorLeft(party: VisitorSpeaker): Promise<void> {
    const call = await this.calls.callOfVisitor(party.visitorId);
    if (call) {
      if (await this.visitors.hold(party.visitorId, party.socketId))
        await this.partyDisconnected(call, 'visitor');
      return;
    }
    const removed = await this.visitors.remove(party.visitorId, party.socketId);
    if (!removed) return;
    const request = await this.calls.requestOfVisitor(removed.visitorId);
    const withdrawn = request ? await this.calls.withdraw(request.requestId, removed.visitorId) : null;
    if (withdrawn) await this.stopRinging(withdrawn);
  }

  /** The live call an agent is in, for the relay. */
  callOfAgent(agentId: string): Promise<CallRecord | null> {
    return this.calls.callOfAgent(agentId);
  }

  /**
   * The live session of this socket and the call it is in, for the relay (VISITOR_NOT_FOUND if the
   * session is not live).
   */
  async callOfVisitor(party: VisitorSpeaker): Promise<{ visitor: VisitorRecord; call: CallRecord | null }> {
    const visitor = await this.visitors.requireLive(party);
    return { visitor, call: await this.calls.callOfVisitor(party.visitorId) };
  }

  /** Ends a call once: both parties are told, timers stop, the agent is available again. */
  async finish(callId: string, reason: CallEndReason, message?: string): Promise<boolean> {
    const call = await this.calls.endCall(callId);
    if (!call) return false;
    await this.ended(call, reason, message);
    return true;
  }

  private async ended(call: CallRecord, reason: CallEndReason, message?: string): Promise<void> {
    const { callId } = call;
    await this.scheduler.cancel(maxDurationKey(callId));
    await this.scheduler.cancel(reconnectKey(callId, 'agent'));
    await this.scheduler.cancel(reconnectKey(callId, 'visitor'));
    const payload = { callId, reason, ...(message !== undefined ? { message } : {}) };
    this.notifier.toVisitor(call.visitorId, 'call:ended', payload);
    // Every tab of the agent: the one that carried the call, and those that show its status.
    this.notifier.toAgent(call.agentId, 'call:ended', payload);
    this.callLog.ended({ ...logEntry(call), endedAt: this.clock.now(), endReason: reason });
    this.metrics.callEnded(reason);
    this.logger.log(`call ${callId} ended (${reason})`);
    // A visitor that never came back leaves with its call.
    if (call.disconnectedAt.visitor !== null) await this.visitors.remove(call.visitorId, null);
    await this.presence.leaveCall(call.agentId);
  }

  // ── Presence reactions ───────────────────────────────────────────────────────────────────

  private async onPresenceChange(change: PresenceChange): Promise<void> {
    const { agentId } = change.presence;
    if (change.kind === 'available') return this.agentAvailable(change.presence);
    // Whatever rang this agent goes to someone else; it cannot answer now. (A call it carried was
    // put on hold when that socket left: agentSocketLeft.)
    await this.passRingsOf(agentId, change.kind === 'disconnected' ? 'agent_offline' : change.reason);
    if (change.kind === 'disconnected') return;
    await this.routing.reassignVisitorsOf(agentId, change.reason);
    // Revoked: its call ends now. After the disconnect grace, a call on hold for the agent's
    // reconnect is left to its own (reconnect) timer.
    const call = await this.calls.callOfAgent(agentId);
    if (change.gone === 'revoked' && call) await this.finish(call.callId, 'agent_ended');
  }

  /** An agent became available: waiting visitors of its pools, then its oldest waiting request. */
  private async agentAvailable(agent: AgentPresence): Promise<void> {
    await this.routing.pickUpWaiting(agent);
    for (const request of await this.calls.waitingRequests(agent.orgId)) {
      if (request.rejectedBy.includes(agent.agentId)) continue;
      if (request.poolId !== null && !agent.pools.includes(request.poolId)) continue;
      if (await this.ring(request, agent.agentId)) return;
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
    const rnaMs = this.organization(ringing.orgId).rnaTimeoutSeconds * 1000;
    await this.scheduler.deadline<RingDeadline>(RNA, ringing.requestId, rnaMs, {
      requestId: ringing.requestId,
      agentId,
      seq: ringing.ringSeq,
    });
    return true;
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

  /** Every request ringing this agent rings someone else (it left, went away or took a call). */
  private async passRingsOf(agentId: string, reason: AssignmentReason): Promise<void> {
    for (const request of await this.calls.ringing(agentId)) {
      const released = await this.calls.release(request.requestId, agentId, 'passed');
      if (!released) continue;
      await this.scheduler.cancel(rnaKey(request.requestId));
      this.notifier.toAgent(agentId, 'call:cancelled', { requestId: request.requestId });
      await this.reroute(released, reason);
    }
  }

  /** A request that stopped ringing for good (withdrawn or replaced): its agent is told. */
  private async stopRinging(request: CallRequestRecord): Promise<void> {
    await this.scheduler.cancel(rnaKey(request.requestId));
    if (request.agentId)
      this.notifier.toAgent(request.agentId, 'call:cancelled', { requestId: request.requestId });
  }

  private tellNoAgent(visitor: VisitorRecord, reason: AssignmentReason): void {
    this.notifier.toVisitor(visitor.visitorId, 'agent:unavailable', {
      visitorId: visitor.visitorId,
      widgetSettings: this.routing.widgetSettings(visitor),
      poolId: visitor.poolId,
      reason,
    });
  }

  // ── Reconnect hold ───────────────────────────────────────────────────────────────────────

  private async partyDisconnected(call: CallRecord, role: CallRole): Promise<void> {
    const at = this.clock.now();
    const held = await this.calls.setDisconnected(call.callId, role, at);
    if (!held) return;
    const graceMs = this.config.callReconnectGraceMs;
    const reconnecting = {
      callId: call.callId,
      message:
        role === 'agent'
          ? 'The agent lost the connection; reconnecting…'
          : 'The visitor lost the connection; reconnecting…',
      timeoutSeconds: Math.ceil(graceMs / 1000),
    };
    if (role === 'agent') this.notifier.toVisitor(call.visitorId, 'call:reconnecting', reconnecting);
    else this.toCallAgent(held, 'call:reconnecting', reconnecting);
    await this.scheduler.deadline<ReconnectDeadline>(RECONNECT, `${call.callId}:${role}`, graceMs, {
      callId: call.callId,
      role,
      at,
    });
  }

  private async reconnectTimedOut(callId: string, role: CallRole, at: number): Promise<void> {
    // Ends the call only if that party is still away since `at`: a reconnect that won the race
    // keeps it, and nobody is told a failure that did not happen.
    const call = await this.calls.endCall(callId, { role, at });
    if (!call) return;
    const failed = { callId, reason: 'timeout', message: `The ${role} did not reconnect in time.` };
    this.notifier.toVisitor(call.visitorId, 'call:reconnect_failed', failed);
    this.notifier.toAgent(call.agentId, 'call:reconnect_failed', failed);
    await this.ended(call, 'reconnect_failed');
  }

  /**
   * Each party gets its own new token in `call:reconnected` (the agent on the socket that now
   * carries the call); a peer still disconnected keeps the token it holds and is told nothing
   * until it comes back.
   */
  private announceResumed(call: CallRecord, tokens: TokenPair): void {
    const rotated = (side: CallRole): boolean => call.tokenHashes[side] === tokens[side].hash;
    if (rotated('visitor')) this.tellVisitorReconnected(call, tokens.visitor.token);
    if (rotated('agent'))
      this.toCallAgent(call, 'call:reconnected', {
        callId: call.callId,
        reconnectToken: tokens.agent.token,
        peerId: call.visitorId,
      });
  }

  private tellVisitorReconnected(call: CallRecord, reconnectToken: string): void {
    const agent = this.directory.findByAgentId(call.agentId);
    this.notifier.toVisitor(call.visitorId, 'call:reconnected', {
      callId: call.callId,
      reconnectToken,
      peerId: call.agentId,
      ...(agent ? { agent: profileOf(agent) } : {}),
    });
  }

  /** Directory entries never disappear while the process runs; a missing one is a bug, said loudly. */
  private organization(orgId: string): Organization {
    const organization = this.directory.getOrganization(orgId);
    if (!organization) throw new Error(`organization ${orgId} is not in the directory`);
    return organization;
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

  /** The call, if `party` is one of its two parties (a visitor only from its live socket). */
  private async callOfParty(party: Speaker, callId: string): Promise<{ call: CallRecord; role: CallRole }> {
    if (party.kind === 'anonymous')
      throw new DomainError(ErrorCode.CallNotFound, undefined, 'not_call_party');
    if (party.kind === 'visitor') await this.visitors.requireLive(party);
    const call = await this.calls.getCall(callId);
    if (!call) throw new DomainError(ErrorCode.CallNotFound);
    if (party.kind === 'agent' && call.agentId === party.agentId) return { call, role: 'agent' };
    if (party.kind === 'visitor' && call.visitorId === party.visitorId) return { call, role: 'visitor' };
    throw new DomainError(
      ErrorCode.CallNotFound,
      undefined,
      call.orgId === party.orgId ? 'not_call_party' : 'cross_organization',
    );
  }
}

export type JoinOutcome = { kind: 'joined'; visitorId: string } | { kind: 'paused'; message: string };

/** The call's deadlines (they fire once cluster-wide, wherever they were set). */
const RNA = 'call:rna';
const RECONNECT = 'call:reconnect';
const MAX_DURATION = 'call:max-duration';
interface RingDeadline {
  requestId: string;
  agentId: string;
  seq: number;
}
interface ReconnectDeadline {
  callId: string;
  role: CallRole;
  at: number;
}
interface CallDeadline {
  callId: string;
}
const rnaKey = (requestId: string): string => deadlineKey(RNA, requestId);
const maxDurationKey = (callId: string): string => deadlineKey(MAX_DURATION, callId);
const reconnectKey = (callId: string, role: CallRole): string => deadlineKey(RECONNECT, `${callId}:${role}`);

function requestView(request: CallRequestRecord, agentId: string): CallRequestView {
  return {
    requestId: request.requestId,
    visitorId: request.visitorId,
    agentId,
    orgId: request.orgId,
    pageUrl: request.pageUrl,
    requestedAt: request.requestedAt,
  };
}

/** No geolocation source exists yet: `location` is null, and always present (PROTOCOL §2.3). */
function visitorView(visitor: VisitorRecord): VisitorView {
  return {
    visitorId: visitor.visitorId,
    pageUrl: visitor.pageUrl,
    connectedAt: visitor.connectedAt,
    location: null,
  };
}

function callView(call: CallRecord): CallView {
  return {
    callId: call.callId,
    callLogId: call.callLogId,
    visitorId: call.visitorId,
    agentId: call.agentId,
    startedAt: call.startedAt,
    endedAt: null,
  };
}

function logEntry(call: CallRecord): CallLogEntry {
  return {
    callLogId: call.callLogId,
    callId: call.callId,
    orgId: call.orgId,
    agentId: call.agentId,
    visitorId: call.visitorId,
    pageUrl: call.pageUrl,
    requestedAt: call.requestedAt,
    startedAt: call.startedAt,
  };
}

type TokenPair = Record<CallRole, ReturnType<typeof newReconnectToken>>;

function newTokenPair(): TokenPair {
  return { agent: newReconnectToken(), visitor: newReconnectToken() };
}
