import { DirectoryStore, inCanonicalOrder } from './directory.store';
import type { AgentPool, DirectorySnapshot, DirectoryUser, Organization } from './directory.types';

/**
 * For fast unit tests; integration and e2e tests use the real database. Keeps organisations, pools
 * and users in separate tables like the database does, so `upsert` has the same semantics (a pool
 * or user absent from a later snapshot survives, a pool may move to another organisation).
 */
export class InMemoryDirectoryStore extends DirectoryStore {
  private readonly organizations = new Map<string, Omit<Organization, 'pools'>>();
  private readonly pools = new Map<string, AgentPool>();
  private readonly users = new Map<string, DirectoryUser>();
  private readonly revocations = new Map<string, number>();

  migrate(): Promise<void> {
    return Promise.resolve();
  }

  upsert(snapshot: DirectorySnapshot): Promise<{ organizations: number; users: number }> {
    for (const { pools, ...org } of structuredClone(snapshot.organizations)) {
      this.organizations.set(org.id, org);
      for (const pool of pools) this.pools.set(pool.id, { ...pool, orgId: org.id });
    }
    for (const user of structuredClone(snapshot.users)) this.users.set(user.userId, user);
    return Promise.resolve({ organizations: snapshot.organizations.length, users: snapshot.users.length });
  }

  deactivateUsersNotIn(keepUserIds: readonly string[]): Promise<string[]> {
    const keep = new Set(keepUserIds);
    const deactivated: string[] = [];
    for (const user of this.users.values()) {
      if (user.active && !keep.has(user.userId)) {
        user.active = false;
        deactivated.push(user.userId);
      }
    }
    return Promise.resolve(deactivated.sort());
  }

  load(): Promise<DirectorySnapshot> {
    const pools = [...this.pools.values()];
    const snapshot: DirectorySnapshot = {
      organizations: [...this.organizations.values()].map((org) => ({
        ...org,
        pools: pools.filter((pool) => pool.orgId === org.id),
      })),
      users: [...this.users.values()],
    };
    return Promise.resolve(inCanonicalOrder(structuredClone(snapshot)));
  }

  saveRevocation(agentId: string, revokedAtSec: number): Promise<void> {
    this.revocations.set(agentId, Math.max(revokedAtSec, this.revocations.get(agentId) ?? revokedAtSec));
    return Promise.resolve();
  }

  loadRevocations(): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.revocations));
  }
}
