import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import { AppConfig } from '../../config/app-config';
import { loadAgentsFile } from './agents-file';
import { DirectoryStore } from './directory.store';
import type { DirectorySnapshot, DirectoryUser, Organization } from './directory.types';
import { RevocationFeed } from './revocation-feed';

/**
 * The source of truth for who is an agent or admin (DESIGN §3). Persisted through DirectoryStore,
 * seeded from AGENTS_FILE at boot, and held in memory so that every guarded socket event looks
 * identities up in O(1) without touching the database.
 *
 * Revocation times are cached the same way, and kept current across instances by the
 * RevocationFeed: a revoke is stored, then told to every instance (this one included), each of
 * which raises its cached time at once; an instance reads them all from the store at boot, and
 * again whenever the feed may have missed some. A cached time only ever rises.
 */
@Injectable()
export class AgentDirectory implements OnModuleInit {
  private readonly logger = new Logger(AgentDirectory.name);
  private byUserId = new Map<string, DirectoryUser>();
  private byAgentId = new Map<string, DirectoryUser>();
  private organizations = new Map<string, Organization>();
  private revocations = new Map<string, number>();

  constructor(
    private readonly store: DirectoryStore,
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
    private readonly feed: RevocationFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.store.migrate();
    if (this.config.agentsFile) {
      const file = loadAgentsFile(this.config.agentsFile);
      const counts = await this.store.upsert(file);
      this.logger.log(
        `directory seeded from ${this.config.agentsFile}: ${counts.organizations} organizations, ${counts.users} users`,
      );
      // The file is the list of who may sign in: someone taken out of it must not keep access.
      const removed = await this.store.deactivateUsersNotIn(file.users.map((user) => user.userId));
      if (removed.length > 0) {
        this.logger.warn(
          `deactivated ${removed.length} user(s) no longer in AGENTS_FILE: ${removed.join(', ')}`,
        );
        this.bus.publish({
          type: 'config.warning',
          outcome: 'failure',
          reason: 'users_deactivated',
          source: { transport: 'system' },
          details: { userIds: removed },
        });
      }
    }
    // Listening first, then loading: a revocation stored meanwhile is heard, or read, or both.
    await this.feed.listen({
      revoked: (agentId, atSec) => this.raiseRevocation(agentId, atSec),
      resync: () => this.reloadRevocations(),
    });
    await this.refresh();
  }

  /** Reloads the directory and the revocations from the store (e.g. after an admin change). */
  async refresh(): Promise<void> {
    const [snapshot] = await Promise.all([this.store.load(), this.reloadRevocations()]);
    this.index(snapshot);
  }

  /** The directory entry of a JWT `sub`, active or not (callers decide what inactive means). */
  findByUserId(userId: string): DirectoryUser | undefined {
    return this.byUserId.get(userId);
  }

  findByAgentId(agentId: string): DirectoryUser | undefined {
    return this.byAgentId.get(agentId);
  }

  getOrganization(orgId: string): Organization | undefined {
    return this.organizations.get(orgId);
  }

  listOrganizations(): Organization[] {
    return [...this.organizations.values()];
  }

  /**
   * Refuses, from now on, every token of this agent issued at or before `atSec`: stored, in force
   * here at once, then told to every other instance. Resolves false when it is stored and in force
   * here but the others could not be told (they learn it when their feed resyncs, or from a retry).
   */
  async revoke(agentId: string, atSec: number): Promise<boolean> {
    await this.store.saveRevocation(agentId, atSec);
    this.raiseRevocation(agentId, atSec);
    try {
      await this.feed.publish(agentId, atSec);
      return true;
    } catch (error) {
      this.logger.error(
        `agent ${agentId}: revocation not told to the other instances: ${(error as Error).message}`,
      );
      return false;
    }
  }

  revokedAt(agentId: string): number | undefined {
    return this.revocations.get(agentId);
  }

  private raiseRevocation(agentId: string, atSec: number): void {
    this.revocations.set(agentId, Math.max(atSec, this.revocations.get(agentId) ?? atSec));
  }

  private async reloadRevocations(): Promise<void> {
    const revocations = await this.store.loadRevocations();
    // Merge rather than replace: a revocation that lands while the load is in flight must not be lost.
    for (const [agentId, atSec] of this.revocations) {
      revocations.set(agentId, Math.max(atSec, revocations.get(agentId) ?? atSec));
    }
    this.revocations = revocations;
  }

  private index(snapshot: DirectorySnapshot): void {
    this.byUserId = new Map(snapshot.users.map((user) => [user.userId, user]));
    this.byAgentId = new Map(
      snapshot.users.flatMap((user) => (user.agentId === null ? [] : [[user.agentId, user] as const])),
    );
    this.organizations = new Map(snapshot.organizations.map((org) => [org.id, org]));
  }
}
