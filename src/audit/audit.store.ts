import type { SecurityEventType } from '../common/security/security-event';
import type { AuditRecord } from './audit-record';

/** Filters of `GET /admin/audit/*` after validation and visibility (PROTOCOL §4, §7). */
export interface AuditFilter {
  types?: readonly SecurityEventType[];
  outcome?: 'success' | 'failure';
  agentId?: string;
  userId?: string;
  ip?: string;
  /** Only this organisation's records (an admin's own organisation, or a platform admin's filter). */
  orgId?: string;
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
}

export interface AuditSummary {
  counts: { type: string; outcome: string; count: number }[];
  topFailureSources: { ip: string; count: number }[];
}

/** Where a chain starts once retention has purged its beginning. */
export interface ChainAnchor {
  chain: string;
  seq: number;
  prevHash: string;
}

/**
 * Persistence port of the audit trail (bound to KyselyAuditStore in AuditModule; the in-memory
 * implementation serves unit tests). Records are immutable: the only deletion is retention.
 */
export abstract class AuditStore {
  abstract migrate(): Promise<void>;

  /** Inserts the records, skipping ids already stored (replays are idempotent). Returns how many were new. */
  abstract append(records: readonly AuditRecord[]): Promise<number>;

  /** Newest first: records with an id below `before` (a keyset cursor), at most `limit`. */
  abstract list(filter: AuditFilter, limit: number, before?: string): Promise<AuditRecord[]>;

  abstract get(id: string): Promise<AuditRecord | null>;

  abstract summary(filter: AuditFilter, topSources: number): Promise<AuditSummary>;

  /** Every chain present in the store. */
  abstract chains(): Promise<string[]>;

  /** A chain's records in chain order with `seq` above `afterSeq`, at most `limit`. */
  abstract chainSlice(chain: string, afterSeq: number, limit: number): Promise<AuditRecord[]>;

  /** The anchor retention left for the chain, or null when its first record is still stored. */
  abstract anchor(chain: string): Promise<ChainAnchor | null>;

  /**
   * Deletes up to `limit` records that occurred before `cutoff` (ISO), oldest first, and moves the
   * anchors of the chains it shortened. Returns how many were deleted (0 when done).
   */
  abstract purgeBatch(cutoff: string, limit: number): Promise<number>;
}
