import type { DirectorySnapshot } from './directory.types';

/**
 * Persistence port of the agent directory (bound to KyselyDirectoryStore in AuthModule; the
 * in-memory implementation serves unit tests). The database is the source of truth; AGENTS_FILE
 * only seeds it.
 */
export abstract class DirectoryStore {
  /** Creates or updates the directory's tables. */
  abstract migrate(): Promise<void>;

  /**
   * In one transaction: inserts or updates every organisation, pool and user of the snapshot,
   * replaces the rules of its pools and the memberships of its users. Entities absent from the
   * snapshot are left as they are. Returns how many organisations and users were written.
   */
  abstract upsert(snapshot: DirectorySnapshot): Promise<{ organizations: number; users: number }>;

  /**
   * Marks active users whose id is not in `keepUserIds` inactive (a user removed from AGENTS_FILE
   * loses access at the next boot). Returns the ids it deactivated.
   */
  abstract deactivateUsersNotIn(keepUserIds: readonly string[]): Promise<string[]>;

  /** The whole directory, in the order of `inCanonicalOrder`. */
  abstract load(): Promise<DirectorySnapshot>;

  /** Records that the agent's tokens issued up to `revokedAtSec` are refused; keeps the latest time. */
  abstract saveRevocation(agentId: string, revokedAtSec: number): Promise<void>;

  /** agentId → revocation time (epoch seconds). */
  abstract loadRevocations(): Promise<Map<string, number>>;
}

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    // Code-unit order, not the database collation, so every store sorts alike.
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * The order every store's `load` returns: organisations, pools and users by id; a pool's rules in
 * the order they were given; a user's memberships by priority rank, then pool id.
 */
export function inCanonicalOrder(snapshot: DirectorySnapshot): DirectorySnapshot {
  return {
    organizations: snapshot.organizations
      .map((org) => ({ ...org, pools: [...org.pools].sort(byKey((pool) => pool.id)) }))
      .sort(byKey((org) => org.id)),
    users: snapshot.users
      .map((user) => ({
        ...user,
        pools: [...user.pools].sort(
          (a, b) => a.priorityRank - b.priorityRank || byKey<typeof a>((m) => m.poolId)(a, b),
        ),
      }))
      .sort(byKey((user) => user.userId)),
  };
}
