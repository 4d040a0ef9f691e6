import { Injectable, Logger } from '@nestjs/common';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { AgentSpeaker, Speaker, VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import { Clock } from '../../common/clock.service';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { Scheduler } from '../../common/scheduler.service';
import { AppConfig } from '../../config/app-config';
import { ClientNotifier } from '../client-notifier';
import { PresenceService, profileOf } from '../presence/presence.service';
import type { VisitorBinding } from '../visitor-binder';
import { VisitorService } from '../visitors/visitor.service';
import { CallRequests } from './call-requests.service';
import { RECONNECT, type ReconnectDeadline, reconnectKey } from './call-deadlines';
import { CallStore } from './call.store';
import type { CallRecord, CallRole } from './call.types';
import { LiveCalls } from './live-calls.service';
import { hashReconnectToken, newReconnectToken } from './reconnect-token';

/**
 * A party of a call lost and back (PROTOCOL §3): a party whose socket left is held for the
 * reconnect grace (the call ends if it does not return in time); it comes back with its reconnect
 * token (single use, both tokens rotate) or, for an agent, through a login; both sides are told
 * the call resumed. A visitor that leaves outside a call ends its session instead.
 */
@Injectable()
export class CallReconnects {
  private readonly logger = new Logger(CallReconnects.name);

  constructor(
    private readonly calls: CallStore,
    private readonly liveCalls: LiveCalls,
    private readonly requests: CallRequests,
    private readonly visitors: VisitorService,
    private readonly presence: PresenceService,
    private readonly directory: AgentDirectory,
    private readonly notifier: ClientNotifier,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    // Deadlines are data (they may fire on another instance): the handler of its kind, by name.
    scheduler.define<ReconnectDeadline>(RECONNECT, ({ callId, role, at }) =>
      this.reconnectTimedOut(callId, role, at),
    );
  }

  // ── A party lost ─────────────────────────────────────────────────────────────────────────

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
    await this.requests.withdrawOf(removed.visitorId);
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

  private async partyDisconnected(call: CallRecord, role: CallRole): Promise<void> {
    const at = this.clock.now();
    // Conditional on the call as read: a party that resumed meanwhile (elsewhere) stays connected.
    const held = await this.calls.setDisconnected(call.callId, role, at, {
      tokenHash: call.tokenHashes[role],
      agentSocketId: call.agentSocketId,
    });
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
    else this.liveCalls.toCallAgent(held, 'call:reconnecting', reconnecting);
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
    await this.liveCalls.ended(call, 'reconnect_failed');
  }

  // ── Back ─────────────────────────────────────────────────────────────────────────────────

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
      await this.liveCalls.finish(call.callId, 'error', 'The agent is in another call.');
      throw new DomainError(ErrorCode.CallNotFound);
    }
    this.announceResumed(call, tokens);
    this.logger.log(`call ${call.callId}: ${role} reconnected`);
    return { callId: call.callId };
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
      await this.liveCalls.finish(call.callId, 'error', 'The agent is in another call.');
      return;
    }
    if (call.tokenHashes.visitor === visitorToken.hash) this.tellVisitorReconnected(call, visitorToken.token);
    this.logger.log(`call ${call.callId}: agent back on a new login`);
  }

  // ── Announcing resumption ────────────────────────────────────────────────────────────────

  /**
   * Each party gets its own new token in `call:reconnected` (the agent on the socket that now
   * carries the call); a peer still disconnected keeps the token it holds and is told nothing
   * until it comes back.
   */
  private announceResumed(call: CallRecord, tokens: TokenPair): void {
    const rotated = (side: CallRole): boolean => call.tokenHashes[side] === tokens[side].hash;
    if (rotated('visitor')) this.tellVisitorReconnected(call, tokens.visitor.token);
    if (rotated('agent'))
      this.liveCalls.toCallAgent(call, 'call:reconnected', {
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
}

type TokenPair = Record<CallRole, ReturnType<typeof newReconnectToken>>;

function newTokenPair(): TokenPair {
  return { agent: newReconnectToken(), visitor: newReconnectToken() };
}
