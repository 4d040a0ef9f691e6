import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { deadlineKey, Scheduler } from '../../common/scheduler.service';
import type { AgentIdentity } from '../../common/socket/socket-data';
import type { DirectoryUser, Organization } from '../../auth/directory/directory.types';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import { ClientNotifier } from '../client-notifier';
import type { AgentProfile, AgentState, AgentStatus, SelectableStatus } from '../protocol';
import { CallStore } from '../calls/call.store';
import { PresenceStore } from './presence.store';
import type { AgentPresence, PresenceChange, PresenceListener, UnavailableReason } from './presence.types';

/** Statuses the server owns: a client's status change never overrides them. */
const SERVER_OWNED: readonly AgentStatus[] = ['in_call', 'in_simulation'];

/**
 * Agent presence (DESIGN §4): sockets per agent, status, liveness, the disconnect grace and
 * staleness. Speaks in domain types only; clients are reached through ClientNotifier.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PresenceService.name);
  private readonly listeners: PresenceListener[] = [];

  constructor(
    private readonly store: PresenceStore,
    private readonly calls: CallStore,
    private readonly directory: AgentDirectory,
    private readonly scheduler: Scheduler,
    private readonly notifier: ClientNotifier,
    private readonly config: AppConfig,
  ) {
    this.scheduler.define<GraceDeadline>(GRACE, ({ agentId, disconnectedAt }) =>
      this.graceExpired(agentId, disconnectedAt),
    );
  }

  onApplicationBootstrap(): void {
    this.scheduleStaleSweep();
  }

  /** Routing and calls react to availability changes; listeners run in order, each awaited. */
  onChange(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** Connected agents of an organisation, for routing. */
  async agentsOf(orgId: string): Promise<AgentPresence[]> {
    return (await this.store.inOrg(orgId)).filter(isConnected);
  }

  async get(agentId: string): Promise<AgentPresence | null> {
    return this.store.get(agentId);
  }

  /** Whether any socket of the agent is logged in now. */
  async isConnected(agentId: string): Promise<boolean> {
    const presence = await this.store.get(agentId);
    return presence !== null && isConnected(presence);
  }

  /** A socket logged in: join (or resume within the grace) the agent's presence. */
  async login(
    identity: AgentIdentity,
    user: DirectoryUser,
    socketId: string,
    now = Date.now(),
  ): Promise<void> {
    await this.scheduler.cancel(graceKey(identity.agentId));
    const { presence, resumed } = await this.store.attach({
      agentId: identity.agentId,
      userId: identity.userId,
      orgId: identity.orgId,
      profile: profileOf(user),
      pools: user.pools.map((pool) => pool.poolId),
      socketId,
      now,
      resumeSince: now - this.config.agentDisconnectGraceMs,
    });
    let current = presence;
    if (resumed) {
      // Never back in a call that did not survive the disconnect (PROTOCOL §3 login flow).
      if (current.status === 'in_call' && !(await this.calls.callOfAgent(identity.agentId)))
        current = (await this.store.leaveCall(identity.agentId, now)) ?? current;
      this.logger.log(`agent ${identity.agentId} resumed within the disconnect grace (${current.status})`);
      if (isAvailable(current)) await this.emit({ kind: 'available', presence: current });
    }
  }

  /** The current state as seen by one socket (`login:success`; a refresh re-sends it unchanged). */
  async state(agentId: string, socketId: string): Promise<AgentState | null> {
    const presence = await this.store.get(agentId);
    return presence ? toAgentState(presence, socketId) : null;
  }

  /**
   * A socket went away — closed, or logged out (`agent:logout` is what the existing dashboard sends
   * on every hourly token refresh, right before logging in again): when it was the agent's last,
   * the presence is kept for the disconnect grace, so that a login within it resumes status and
   * call. Going offline for real is `agent:status offline`.
   */
  async socketClosed(agentId: string, socketId: string, now = Date.now()): Promise<void> {
    const presence = await this.store.detach(agentId, socketId, now);
    if (!presence || presence.socketIds.length > 0 || presence.disconnectedAt === null) return;
    await this.scheduler.deadline<GraceDeadline>(GRACE, agentId, this.config.agentDisconnectGraceMs, {
      agentId,
      disconnectedAt: presence.disconnectedAt,
    });
    await this.emit({ kind: 'disconnected', presence });
  }

  /** The disconnect grace ran out: the presence ends unless the agent came back meanwhile. */
  private async graceExpired(agentId: string, disconnectedAt: number): Promise<void> {
    const expired = await this.store.expireIfDisconnectedSince(agentId, disconnectedAt);
    if (!expired) return;
    this.logger.log(`agent ${agentId} presence ended after the disconnect grace`);
    await this.emit({
      kind: 'unavailable',
      presence: expired,
      reason: 'agent_offline',
      gone: 'grace_expired',
    });
  }

  /** A revoked session: this socket leaves now; the presence ends with its last socket, without grace. */
  async revoke(agentId: string, socketId: string, now = Date.now()): Promise<void> {
    const presence = await this.store.detach(agentId, socketId, now);
    if (presence && presence.socketIds.length === 0) {
      await this.scheduler.cancel(graceKey(agentId));
      const removed = await this.store.remove(agentId);
      if (removed)
        await this.emit({
          kind: 'unavailable',
          presence: removed,
          reason: 'agent_offline',
          gone: 'revoked',
        });
    }
  }

  async setStatus(identity: AgentIdentity, status: SelectableStatus, now = Date.now()): Promise<AgentStatus> {
    if (status === 'idle') this.assertOrganizationActive(identity.orgId);
    const before = await this.store.get(identity.agentId);
    const presence = await this.store.setStatus(identity.agentId, status, now, SERVER_OWNED);
    if (!presence || !before)
      throw new DomainError(ErrorCode.AgentNotFound, 'No presence for this agent. Please login again.');
    if (presence.status !== before.status) await this.statusChanged(presence);
    return presence.status;
  }

  /**
   * The server marks an available agent away (a ring left unanswered, staleness) and tells its
   * sockets; an agent in a call is left alone.
   */
  async markAway(agentId: string, reason: 'idle' | 'ring_no_answer', now = Date.now()): Promise<void> {
    const before = await this.store.get(agentId);
    if (!before || before.status !== 'idle') return;
    const presence = await this.store.setStatus(agentId, 'away', now, SERVER_OWNED);
    if (!presence || presence.status !== 'away') return;
    this.notifier.toAgent(agentId, 'agent:marked_away', { reason, message: MARKED_AWAY_MESSAGES[reason] });
    await this.emit({
      kind: 'unavailable',
      presence,
      reason: reason === 'idle' ? 'agent_away' : 'ring_no_answer',
      gone: null,
    });
  }

  /** One call at a time, and only from `idle`: the presence in the call, or null (or without one). */
  enterCall(agentId: string, visitorId: string, now = Date.now()): Promise<AgentPresence | null> {
    return this.store.enterCall(agentId, visitorId, now);
  }

  /** Back in the call it reconnected to; false when the agent took another call meanwhile. */
  async resumeCall(agentId: string, visitorId: string, now = Date.now()): Promise<boolean> {
    return (await this.store.resumeCall(agentId, visitorId, now)) !== null;
  }

  /**
   * The agent's call ended, or never began (`enterCall` undone: another accept won the request):
   * back to `idle`, and available again for waiting visitors and requests.
   */
  async leaveCall(agentId: string, now = Date.now()): Promise<void> {
    const presence = await this.store.leaveCall(agentId, now);
    if (presence && isAvailable(presence)) await this.emit({ kind: 'available', presence });
  }

  async heartbeat(agentId: string, now = Date.now()): Promise<void> {
    await this.store.touch(agentId, now);
  }

  /** Marks silent available agents away (PROTOCOL §3 staleness) and tells their sockets. */
  async sweepStale(now = Date.now()): Promise<AgentPresence[]> {
    const stale = await this.store.markStale(now - this.config.agentStaleMs, now);
    for (const presence of stale) {
      this.notifier.toAgent(presence.agentId, 'agent:marked_away', {
        reason: 'idle',
        message: MARKED_AWAY_MESSAGES.idle,
      });
      await this.emit({ kind: 'unavailable', presence, reason: 'agent_away', gone: null });
    }
    return stale;
  }

  private async statusChanged(presence: AgentPresence): Promise<void> {
    if (isAvailable(presence)) return this.emit({ kind: 'available', presence });
    const reason: UnavailableReason = presence.status === 'offline' ? 'agent_offline' : 'agent_away';
    if (presence.status === 'away' || presence.status === 'offline')
      await this.emit({ kind: 'unavailable', presence, reason, gone: null });
  }

  private async emit(change: PresenceChange): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(change);
      } catch (error) {
        // One failed reaction must not undo the agent's own change nor stop the others.
        const err = error as Error;
        this.logger.error(
          `reacting to ${change.kind} of agent ${change.presence.agentId} failed: ${err.message}`,
          err.stack,
        );
      }
    }
  }

  private assertOrganizationActive(orgId: string): void {
    const organization: Organization | undefined = this.directory.getOrganization(orgId);
    if (organization?.status === 'paused') {
      throw new DomainError(
        ErrorCode.Forbidden,
        'Your organization is paused; agents cannot become available.',
        'organization_paused',
      );
    }
  }

  private scheduleStaleSweep(): void {
    const interval = Math.max(250, Math.min(5_000, Math.floor(this.config.agentStaleMs / 4)));
    this.scheduler.schedule('presence:stale-sweep', interval, async () => {
      try {
        await this.sweepStale();
      } finally {
        this.scheduleStaleSweep();
      }
    });
  }
}

/** The disconnect grace of an agent's last socket (a deadline: it fires once cluster-wide). */
const GRACE = 'presence:grace';
interface GraceDeadline {
  agentId: string;
  disconnectedAt: number;
}
const graceKey = (agentId: string): string => deadlineKey(GRACE, agentId);

const MARKED_AWAY_MESSAGES: Record<'idle' | 'ring_no_answer', string> = {
  idle: 'You were marked away after a period of inactivity.',
  ring_no_answer: 'You were marked away because a call rang without an answer.',
};

function isConnected(presence: AgentPresence): boolean {
  return presence.disconnectedAt === null && presence.socketIds.length > 0;
}

/** Takes visitors and calls: connected and idle. */
export function isAvailable(presence: AgentPresence): boolean {
  return isConnected(presence) && presence.status === 'idle';
}

/** What visitors see of an agent: the directory's profile. */
export function profileOf(user: DirectoryUser): AgentProfile {
  return {
    id: user.agentId ?? user.userId,
    displayName: user.displayName,
    avatarUrl: user.avatarUrl,
    waveVideoUrl: user.waveVideoUrl,
    introVideoUrl: user.introVideoUrl,
    connectVideoUrl: user.connectVideoUrl,
    loopVideoUrl: user.loopVideoUrl,
  };
}

function toAgentState(presence: AgentPresence, socketId: string): AgentState {
  return {
    agentId: presence.agentId,
    socketId,
    profile: { ...presence.profile, userId: presence.userId, status: presence.status },
    status: presence.status,
    currentCallVisitorId: presence.currentCallVisitorId,
    connectedAt: presence.connectedAt,
    lastActivityAt: presence.lastActivityAt,
    pools: presence.pools,
  };
}
