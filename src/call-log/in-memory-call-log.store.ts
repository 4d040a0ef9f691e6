import type { CallLogRecord } from './call-log-record';
import { CallLogFilter, CallLogPosition, CallLogStore } from './call-log.store';

/** For fast unit tests; integration and e2e tests use the real database. Same semantics as KyselyCallLogStore. */
export class InMemoryCallLogStore extends CallLogStore {
  private readonly rows = new Map<string, CallLogRecord>();

  migrate(): Promise<void> {
    return Promise.resolve();
  }

  upsert(records: readonly CallLogRecord[]): Promise<void> {
    for (const record of records) {
      const stored = this.rows.get(record.callLogId);
      if (!stored) this.rows.set(record.callLogId, { ...record });
      else if (stored.endedAt === null && record.endedAt !== null) {
        this.rows.set(record.callLogId, {
          ...stored,
          endedAt: record.endedAt,
          endReason: record.endReason,
          durationSeconds: record.durationSeconds,
        });
      }
    }
    return Promise.resolve();
  }

  list(filter: CallLogFilter, limit: number, before?: CallLogPosition): Promise<CallLogRecord[]> {
    const rows = [...this.rows.values()]
      .filter(
        (r) =>
          (!filter.orgId || r.orgId === filter.orgId) &&
          (!filter.agentId || r.agentId === filter.agentId) &&
          (!filter.endReason || r.endReason === filter.endReason) &&
          (filter.from === undefined || r.startedAt >= filter.from) &&
          (filter.to === undefined || r.startedAt < filter.to) &&
          (!before || newestFirst(r, before) > 0),
      )
      .sort(newestFirst);
    return Promise.resolve(rows.slice(0, limit).map((row) => ({ ...row })));
  }

  purgeBatch(endedBefore: number, limit: number): Promise<number> {
    const victims = [...this.rows.values()]
      .filter((row) => row.endedAt !== null && row.endedAt < endedBefore)
      .sort((a, b) => a.endedAt! - b.endedAt!)
      .slice(0, limit);
    for (const victim of victims) this.rows.delete(victim.callLogId);
    return Promise.resolve(victims.length);
  }
}

/** Negative when `a` comes first in the list (newer), positive when it comes after `b`. */
function newestFirst(a: CallLogPosition, b: CallLogPosition): number {
  if (a.startedAt !== b.startedAt) return b.startedAt - a.startedAt;
  return a.callLogId < b.callLogId ? 1 : a.callLogId > b.callLogId ? -1 : 0;
}
