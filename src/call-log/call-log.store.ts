import type { CallEndReason } from '../signaling/protocol';
import type { CallLogRecord } from './call-log-record';

/** Filters of `GET /admin/calls` after validation and visibility. */
export interface CallLogFilter {
  /** Only this organisation's calls (a reader's own organisation, or a platform admin's filter). */
  orgId?: string;
  agentId?: string;
  endReason?: CallEndReason;
  /** Epoch ms, inclusive, on startedAt. */
  from?: number;
  /** Epoch ms, exclusive, on startedAt. */
  to?: number;
}

/** Where a page ended: the list is ordered by startedAt, then callLogId, both descending. */
export interface CallLogPosition {
  startedAt: number;
  callLogId: string;
}

/**
 * Persistence port of the call log (bound to KyselyCallLogStore in CallLogModule; the in-memory
 * implementation serves unit tests). One row per call, keyed by callLogId.
 */
export abstract class CallLogStore {
  abstract migrate(): Promise<void>;

  /**
   * Upserts the records by callLogId, all or none: an end fills in the row of a running call; a
   * start, or another end, never changes an end already stored. So replays in any order are
   * idempotent.
   */
  abstract upsert(records: readonly CallLogRecord[]): Promise<void>;

  /** Newest first (startedAt, then callLogId): rows after `before` (a keyset cursor), at most `limit`. */
  abstract list(filter: CallLogFilter, limit: number, before?: CallLogPosition): Promise<CallLogRecord[]>;

  /**
   * Deletes up to `limit` rows of calls that ended before `endedBefore` (epoch ms), oldest first;
   * rows of running calls are never deleted. Returns how many went (0 when done).
   */
  abstract purgeBatch(endedBefore: number, limit: number): Promise<number>;
}
