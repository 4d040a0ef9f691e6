/** What an instance does with the revocations the feed brings. */
export interface RevocationListener {
  /** `agentId`'s tokens issued at or before `atSec` are refused from now on (any instance's revoke). */
  revoked(agentId: string, atSec: number): void;
  /**
   * The feed has (re)started listening after a gap in which revocations may have been missed:
   * the listener reloads them from the database.
   */
  resync(): Promise<void>;
}

/**
 * How a revocation reaches every instance at once (DESIGN §3): each instance keeps the revocation
 * times in memory (AgentDirectory), so one instance's revoke must be told to all the others, itself
 * included. The database stays the source of truth that an instance reads at boot and on `resync`.
 */
export abstract class RevocationFeed {
  /** Tells every listening instance; rejects when they could not be told. */
  abstract publish(agentId: string, atSec: number): Promise<void>;

  /**
   * Delivers every revocation published from now on to `listener`. Resolves once listening (or,
   * when the feed cannot listen yet, once it stopped waiting: `resync` follows when it can).
   */
  abstract listen(listener: RevocationListener): Promise<void>;
}

/** One process on its own: a revocation is told to this process's listeners, and nobody else. */
export class LocalRevocationFeed extends RevocationFeed {
  private readonly listeners = new Set<RevocationListener>();

  publish(agentId: string, atSec: number): Promise<void> {
    for (const listener of this.listeners) listener.revoked(agentId, atSec);
    return Promise.resolve();
  }

  listen(listener: RevocationListener): Promise<void> {
    this.listeners.add(listener);
    return Promise.resolve();
  }
}
