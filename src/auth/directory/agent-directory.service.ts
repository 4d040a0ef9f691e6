import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import { AppConfig } from '../../config/app-config';
import { loadAgentsFile } from './agents-file';
import { DirectoryStore } from './directory.store';
import type { DirectorySnapshot, DirectoryUser, Organization } from './directory.types';

/**
 * The source of truth for who is an agent or admin (DESIGN §3). Persisted through DirectoryStore,
 * seeded from AGENTS_FILE at boot, and held in memory so that every guarded socket event looks
 * identities up in O(1) without touching the database.
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
    await this.refresh();
  }

  /** Reloads the directory and the revocations from the store (e.g. after an admin change). */
  async refresh(): Promise<void> {
    const [snapshot, revocations] = await Promise.all([this.store.load(), this.store.loadRevocations()]);
    this.index(snapshot);
    // Merge rather than replace: a revoke() that lands while the load is in flight must not be lost.
    for (const [agentId, atSec] of this.revocations) {
      revocations.set(agentId, Math.max(atSec, revocations.get(agentId) ?? atSec));
    }
    this.revocations = revocations;
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

  /** Refuses, from now on, every token of this agent issued at or before `atSec`. */
  async revoke(agentId: string, atSec: number): Promise<void> {
    await this.store.saveRevocation(agentId, atSec);
    this.revocations.set(agentId, Math.max(atSec, this.revocations.get(agentId) ?? 0));
  }

  revokedAt(agentId: string): number | undefined {
    return this.revocations.get(agentId);
  }

  private index(snapshot: DirectorySnapshot): void {
    this.byUserId = new Map(snapshot.users.map((user) => [user.userId, user]));
    this.byAgentId = new Map(
      snapshot.users.flatMap((user) => (user.agentId === null ? [] : [[user.agentId, user] as const])),
    );
    this.organizations = new Map(snapshot.organizations.map((org) => [org.id, org]));
  }
}
