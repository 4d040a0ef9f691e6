import { Injectable } from '@nestjs/common';
import { ColumnType, Insertable, Kysely, Selectable } from 'kysely';
import { DatabaseService } from '../common/database/database.service';
import type { CallEndReason } from '../signaling/protocol';
import { CallLogRecord, onePerCall } from './call-log-record';
import { callLogMigrations } from './call-log.migrations';
import { CallLogFilter, CallLogPosition, CallLogStore } from './call-log.store';

/** pg returns bigint columns as strings; better-sqlite3 as numbers. Written as numbers either way. */
type EpochMs = ColumnType<number | string, number, number>;
type NullableEpochMs = ColumnType<number | string | null, number | null, number | null>;

interface CallLogRow {
  call_log_id: string;
  call_id: string;
  org_id: string;
  agent_id: string;
  visitor_id: string;
  page_url: string;
  requested_at: EpochMs;
  started_at: EpochMs;
  ended_at: NullableEpochMs;
  end_reason: string | null;
  duration_seconds: number | null;
}

interface CallLogTables {
  call_log: CallLogRow;
}

/** Rows per statement: 11 columns × 500 stays far below both dialects' bound-parameter limits. */
const UPSERT_BATCH = 500;

/** The call log over Kysely: the same statements on SQLite and Postgres. */
@Injectable()
export class KyselyCallLogStore extends CallLogStore {
  private readonly db: Kysely<CallLogTables>;

  constructor(private readonly database: DatabaseService) {
    super();
    this.db = database.db as Kysely<CallLogTables>;
  }

  migrate(): Promise<void> {
    return this.database.migrate('call_log', callLogMigrations);
  }

  async upsert(records: readonly CallLogRecord[]): Promise<void> {
    const rows = onePerCall(records).map(toRow);
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += UPSERT_BATCH) {
        await trx
          .insertInto('call_log')
          .values(rows.slice(i, i + UPSERT_BATCH))
          .onConflict((oc) =>
            oc
              .column('call_log_id')
              .doUpdateSet((eb) => ({
                ended_at: eb.ref('excluded.ended_at'),
                end_reason: eb.ref('excluded.end_reason'),
                duration_seconds: eb.ref('excluded.duration_seconds'),
              }))
              // Only an end, and only onto a running call: a replayed start (whatever order replays
              // arrive in) or a repeated end changes nothing.
              .where('call_log.ended_at', 'is', null)
              .where('excluded.ended_at', 'is not', null),
          )
          .execute();
      }
    });
  }

  async list(filter: CallLogFilter, limit: number, before?: CallLogPosition): Promise<CallLogRecord[]> {
    let query = this.db.selectFrom('call_log').selectAll();
    if (filter.orgId) query = query.where('org_id', '=', filter.orgId);
    if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
    if (filter.endReason) query = query.where('end_reason', '=', filter.endReason);
    if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('started_at', '<', filter.to);
    if (before) {
      // A row comparison: the keyset of the order below, served by the indexes that end in it.
      query = query.where((eb) =>
        eb(eb.refTuple('started_at', 'call_log_id'), '<', eb.tuple(before.startedAt, before.callLogId)),
      );
    }
    const rows = await query
      .orderBy('started_at', 'desc')
      .orderBy('call_log_id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  async purgeBatch(endedBefore: number, limit: number): Promise<number> {
    // One statement: the victims are chosen and deleted atomically, a bounded number at a time.
    const result = await this.db
      .deleteFrom('call_log')
      .where('call_log_id', 'in', (eb) =>
        eb
          .selectFrom('call_log')
          .select('call_log_id')
          .where('ended_at', 'is not', null)
          .where('ended_at', '<', endedBefore)
          .orderBy('ended_at')
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRow(record: CallLogRecord): Insertable<CallLogRow> {
  return {
    call_log_id: record.callLogId,
    call_id: record.callId,
    org_id: record.orgId,
    agent_id: record.agentId,
    visitor_id: record.visitorId,
    page_url: record.pageUrl,
    requested_at: record.requestedAt,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    end_reason: record.endReason,
    duration_seconds: record.durationSeconds,
  };
}

function fromRow(row: Selectable<CallLogRow>): CallLogRecord {
  return {
    callLogId: row.call_log_id,
    callId: row.call_id,
    orgId: row.org_id,
    agentId: row.agent_id,
    visitorId: row.visitor_id,
    pageUrl: row.page_url,
    requestedAt: Number(row.requested_at),
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    endReason: row.end_reason as CallEndReason | null,
    durationSeconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
  };
}
