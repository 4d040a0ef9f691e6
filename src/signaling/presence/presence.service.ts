import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { Scheduler } from '../../common/scheduler.service';
import type { AgentIdentity } from '../../common/socket/socket-data';
import type { DirectoryUser, Organization } from '../../auth/directory/directory.types';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import { ClientNotifier } from '../client-notifier';
import type { AgentProfile, AgentState, AgentStatus, SelectableStatus } from '../protocol';
import { PresenceStore } from './presence.store';
import type { AgentPresence } from './presence.types';

/** Statuses the server owns: a client's status change never overrides them. */
const SERVER_OWNED: readonly AgentStatus[] = ['in_call', 'in_simulation'];

/**
 * Agent presence (DESIGN §4): sockets per agent, status, liveness, the disconnect grace and
 * staleness. Speaks in domain types only; clients are reached through ClientNotifier.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PresenceService.name);

  constructor(
    private readonly store: PresenceStore,
    private readonly directory: AgentDirectory,
    private readonly scheduler: Scheduler,
    private readonly notifier: ClientNotifier,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduleStaleSweep();
  }

  /** A socket logged in: join (or resume within the grace) the agent's presence. */
  async login(
    identity: AgentIdentity,
    user: DirectoryUser,
    socketId: string,
    now = Date.now(),
  ): Promise<AgentState> {
    this.scheduler.cancel(graceKey(identity.agentId));
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
    if (resumed)
      this.logger.log(`agent ${identity.agentId} resumed within the disconnect grace (${presence.status})`);
    return toAgentState(presence, socketId);
  }

  /** The current state as seen by one socket (a token refresh re-sends it unchanged). */
  async state(agentId: string, socketId: string): Promise<AgentState | null> {
    const presence = await this.store.get(agentId);
    return presence ? toAgentState(presence, socketId) : null;
  }

  /** A socket went away without logging out: keep the presence for the disconnect grace. */
  async socketClosed(agentId: string, socketId: string, now = Date.now()): Promise<void> {
    const presence = await this.store.detach(agentId, socketId, now);
    if (!presence || presence.socketIds.length > 0 || presence.disconnectedAt === null) return;
    const disconnectedAt = presence.disconnectedAt;
    this.scheduler.schedule(graceKey(agentId), this.config.agentDisconnectGraceMs, async () => {
      const expired = await this.store.expireIfDisconnectedSince(agentId, disconnectedAt);
      if (expired) this.logger.log(`agent ${agentId} presence ended after the disconnect grace`);
    });
  }

  /** `agent:logout`: this socket leaves now; the presence ends with its last socket, without grace. */
  async logout(agentId: string, socketId: string, now = Date.now()): Promise<void> {
    const presence = await this.store.detach(agentId, socketId, now);
    if (presence && presence.socketIds.length === 0) {
      this.scheduler.cancel(graceKey(agentId));
      await this.store.remove(agentId);
    }
  }

  async setStatus(identity: AgentIdentity, status: SelectableStatus, now = Date.now()): Promise<AgentStatus> {
    if (status === 'idle') this.assertOrganizationActive(identity.orgId);
    const presence = await this.store.setStatus(identity.agentId, status, now, SERVER_OWNED);
    if (!presence)
      throw new DomainError(ErrorCode.AgentNotFound, 'No presence for this agent. Please login again.');
    return presence.status;
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
        message: 'You were marked away after a period of inactivity.',
      });
    }
    return stale;
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

const graceKey = (agentId: string): string => `presence:grace:${agentId}`;

function profileOf(user: DirectoryUser): AgentProfile {
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
