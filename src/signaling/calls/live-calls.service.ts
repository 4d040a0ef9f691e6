import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { AgentSpeaker, Speaker, VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import { CallLog } from '../../call-log/call-log';
import { Clock } from '../../common/clock.service';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { Scheduler } from '../../common/scheduler.service';
import { SocketDrain } from '../../transport/socket-drain.service';
import { ClientNotifier } from '../client-notifier';
import { PresenceService } from '../presence/presence.service';
import type { PresenceChange } from '../presence/presence.types';
import type { CallEndReason, ServerEvents } from '../protocol';
import { SignalingMetrics } from '../signaling-metrics.service';
import { VisitorService } from '../visitors/visitor.service';
import type { VisitorRecord } from '../visitors/visitor.types';
import { CallRequests } from './call-requests.service';
import {
  type CallDeadline,
  MAX_DURATION,
  maxDurationKey,
  organizationOf,
  reconnectKey,
  rnaKey,
} from './call-deadlines';
import { callView, logEntry, visitorView } from './call-views';
import { CallStore } from './call.store';
import type { CallRecord, CallRole } from './call.types';
import { hashReconnectToken, newReconnectToken } from './reconnect-token';

/**
 * Calls from the moment one is accepted until it ends (PROTOCOL §3): accept exactly once, one call
 * per agent; heartbeats; the maximum duration; ending once, whoever or whatever ends it. Also what
 * the relay needs of a live call: its parties, and the agent socket that carries it. Every
 * operation checks that the sender is a party of what it names (PROTOCOL §2 "P"): someone else's
 * call is CALL_NOT_FOUND (its existence is not revealed) and recorded as `auth.forbidden` through
 * the error's reason.
 */
@Injectable()
export class LiveCalls implements OnModuleInit {
  private readonly logger = new Logger(LiveCalls.name);

  constructor(
    private readonly calls: CallStore,
    private readonly requests: CallRequests,
    private readonly visitors: VisitorService,
    private readonly presence: PresenceService,
    private readonly directory: AgentDirectory,
    private readonly notifier: ClientNotifier,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly metrics: SignalingMetrics,
    private readonly callLog: CallLog,
    drain: SocketDrain,
  ) {
    // Deadlines are data (they may fire on another instance): the handler of its kind, by name.
    scheduler.define<CallDeadline>(MAX_DURATION, async ({ callId }) => {
      await this.finish(callId, 'max_duration', 'The call reached its maximum duration.');
    });
    drain.afterDrain(() => this.endWithProcess());
  }

  /**
   * A graceful stop on in-memory state: the calls held for their parties' return cannot outlive the
   * process, so their rows in the call log end now (`error`) instead of staying open for ever. On
   * Redis there are none: another instance carries the calls on.
   */
  private async endWithProcess(): Promise<void> {
    let ended = 0;
    for (const held of await this.calls.endingWithProcess()) {
      // Ended in the store too: a deadline that still fires before the process is gone finds nothing.
      const call = await this.calls.endCall(held.callId);
      if (!call) continue;
      this.callLog.ended({ ...logEntry(call), endedAt: this.clock.now(), endReason: 'error' });
      this.metrics.callEnded('error');
      ended += 1;
    }
    if (ended > 0)
      this.logger.warn(`${ended} call(s) ended with this process: their state was in its memory`);
  }

  /**
   * The claim, or the agent leaves the call it entered: when the request went to someone else, and
   * when the claim failed (Redis) and its call was not stored — a reply lost after the write is
   * told apart by looking for the call. Once the call exists, accepting goes on whatever follows.
   */
  private async claimOrUndo(agentId: string, requestId: string, call: CallRecord): Promise<boolean> {
    try {
      if (await this.requests.claim(requestId, call)) return true;
    } catch (error) {
      if (await this.calls.getCall(call.callId).catch(() => null)) return true;
      await this.presence.leaveCall(agentId).catch(() => undefined);
      throw error;
    }
    await this.presence.leaveCall(agentId);
    return false;
  }

  onModuleInit(): void {
    this.presence.onChange((change) => this.onPresenceChange(change));
  }

  // ── Accepting ────────────────────────────────────────────────────────────────────────────

  /** `call:accept`: only the agent the request rings, exactly once, one call per agent. */
  async accept(agent: AgentSpeaker, requestId: string): Promise<{ callId: string }> {
    const request = await this.requests.ringingFor(agent, requestId);
    // Only an idle agent enters a call: a tab that lost the race (the agent is in_call now) or an
    // agent marked away meanwhile is told the request is gone. The claim below settles races
    // between agents, and creates the call in the same step; entering is undone when it fails
    // (and when the visitor turns out to be gone: read alongside, a round trip saved on Redis).
    const [visitor, entered] = await Promise.all([
      this.visitors.get(request.visitorId),
      this.presence.enterCall(agent.agentId, request.visitorId),
    ]);
    if (!entered) throw new DomainError(ErrorCode.CallNotFound);
    if (!visitor) {
      await this.presence.leaveCall(agent.agentId);
      throw new DomainError(ErrorCode.CallNotFound);
    }
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
      // A request's page and time never change: the claim answers the request as it was read.
      pageUrl: request.pageUrl,
      requestedAt: request.requestedAt,
      startedAt: now,
      tokenHashes: { agent: agentToken.hash, visitor: visitorToken.hash },
      disconnectedAt: { agent: null, visitor: null },
      lastHeartbeatAt: now,
    };
    if (!(await this.claimOrUndo(agent.agentId, requestId, call)))
      throw new DomainError(ErrorCode.CallNotFound);
    this.callLog.started(logEntry(call));
    const accepted = { callId: call.callId, agentId: agent.agentId, reconnectToken: visitorToken.token };
    // A visitor cannot have moved to another socket: it has no reconnect token before this.
    if (visitor.socketId) this.notifier.toSocket(visitor.socketId, 'call:accepted', accepted);
    else this.notifier.toVisitor(visitor.visitorId, 'call:accepted', accepted);
    // Only the tab that accepted carries the call (each tab given `call:started` would open the
    // camera and send its own offer); the agent's other tabs stop ringing.
    this.notifier.toSocket(agent.socketId, 'call:started', {
      call: callView(call),
      visitor: visitorView(visitor),
      reconnectToken: agentToken.token,
    });
    // The agent's other tabs as its presence knows them (a tab rung is in it well before anyone
    // answers): most agents have one tab, and then nothing is published for nobody.
    if (entered.socketIds.some((socketId) => socketId !== agent.socketId))
      this.notifier.toAgentExcept(agent.agentId, agent.socketId, 'call:cancelled', {
        requestId,
        reason: 'answered_elsewhere',
      });
    const maxMs = organizationOf(this.directory, call.orgId).maxCallDurationMinutes * 60_000;
    // The call's duration timer replaces the request's ring timer, in one step; whatever else
    // rang the agent (busy now) goes to someone else.
    await Promise.all([
      this.scheduler.deadline<CallDeadline>(
        MAX_DURATION,
        call.callId,
        maxMs,
        { callId: call.callId },
        { replacing: rnaKey(requestId) },
      ),
      this.requests.passRingsOf(agent.agentId, 'agent_busy'),
    ]);
    return { callId: call.callId };
  }

  // ── In the call ──────────────────────────────────────────────────────────────────────────

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

  // ── Ending ───────────────────────────────────────────────────────────────────────────────

  /** `call:end` from either party. */
  async end(party: Speaker, callId: string): Promise<void> {
    const { call } = await this.callOfParty(party, callId);
    await this.finish(call.callId, party.kind === 'agent' ? 'agent_ended' : 'visitor_ended');
  }

  /** Ends a call once: both parties are told, timers stop, the agent is available again. */
  async finish(callId: string, reason: CallEndReason, message?: string): Promise<boolean> {
    const call = await this.calls.endCall(callId);
    if (!call) return false;
    await this.ended(call, reason, message);
    return true;
  }

  /**
   * What follows a call the store has just ended (by `finish`, or a reconnect hold that ran out):
   * its timers stop, both parties are told, it is logged, and the agent is available again.
   */
  async ended(call: CallRecord, reason: CallEndReason, message?: string): Promise<void> {
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
    if (change.kind === 'available') return this.requests.agentAvailable(change.presence);
    // Whatever rang this agent goes to someone else. (A call it carried was put on hold when that
    // socket left: CallReconnects.agentSocketLeft.)
    await this.requests.agentUnavailable(change);
    if (change.kind === 'disconnected') return;
    // Revoked: its call ends now. After the disconnect grace, a call on hold for the agent's
    // reconnect is left to its own (reconnect) timer.
    const call = await this.calls.callOfAgent(change.presence.agentId);
    if (change.gone === 'revoked' && call) await this.finish(call.callId, 'agent_ended');
  }

  // ── Ownership ────────────────────────────────────────────────────────────────────────────

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
