import type { CallEndReason } from '../signaling/protocol';
import type { CallLogEnd, CallLogEntry } from './call-log';

/** One row of the call log (PROTOCOL §4), as stored, spilled and served. Times are epoch ms. */
export interface CallLogRecord extends CallLogEntry {
  /** Null while the call runs. */
  endedAt: number | null;
  endReason: CallEndReason | null;
  /** Whole seconds from start to end; null while the call runs. */
  durationSeconds: number | null;
}

/** The row of a call that started. Fields are copied one by one, so nothing else a caller passes is stored. */
export function startedRecord(entry: CallLogEntry): CallLogRecord {
  return {
    callLogId: entry.callLogId,
    callId: entry.callId,
    orgId: entry.orgId,
    agentId: entry.agentId,
    visitorId: entry.visitorId,
    pageUrl: entry.pageUrl,
    requestedAt: entry.requestedAt,
    startedAt: entry.startedAt,
    endedAt: null,
    endReason: null,
    durationSeconds: null,
  };
}

export function endedRecord(entry: CallLogEntry & CallLogEnd): CallLogRecord {
  return {
    ...startedRecord(entry),
    endedAt: entry.endedAt,
    endReason: entry.endReason,
    // A clock step backwards between start and end must not give a negative duration.
    durationSeconds: Math.max(0, Math.round((entry.endedAt - entry.startedAt) / 1000)),
  };
}

/**
 * One record per call, as applying them in order would leave it: the first end if there is one
 * (an end is never replaced), else the first start. A batch holds both rows of a call that was
 * short, and a database cannot upsert one key twice in one statement.
 */
export function onePerCall(records: readonly CallLogRecord[]): CallLogRecord[] {
  const byId = new Map<string, CallLogRecord>();
  for (const record of records) {
    const kept = byId.get(record.callLogId);
    if (!kept || (kept.endedAt === null && record.endedAt !== null)) byId.set(record.callLogId, record);
  }
  return [...byId.values()];
}
