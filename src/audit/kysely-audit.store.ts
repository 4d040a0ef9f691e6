import { Injectable } from '@nestjs/common';
import { Kysely, SelectQueryBuilder } from 'kysely';
import { DatabaseService } from '../common/database/database.service';
import type { SecurityEventType, Transport } from '../common/security/security-event';
import type { AuditRecord } from './audit-record';
import { auditMigrations } from './audit.migrations';
import { AuditFilter, AuditStore, AuditSummary, ChainAnchor } from './audit.store';

interface AuditRow {
  id: string;
  chain: string;
  seq: number;
  occurred_at: string;
  type: string;
  outcome: string;
  reason: string | null;
  user_id: string | null;
  agent_id: string | null;
  role: string | null;
  org_id: string | null;
  ip: string | null;
  user_agent: string | null;
  socket_id: string | null;
  transport: string;
  target: string | null;
  details: string | null;
  prev_hash: string;
  hash: string;
}

interface AuditTables {
  audit_records: AuditRow;
  audit_chain_anchors: { chain: string; seq: number; prev_hash: string };
}

/** Rows per insert: 19 columns × 500 stays far below both dialects' bound-parameter limits. */
const INSERT_BATCH = 500;

/** The audit trail over Kysely: the same statements on SQLite and Postgres. */
@Injectable()
export class KyselyAuditStore extends AuditStore {
  private readonly db: Kysely<AuditTables>;

  constructor(private readonly database: DatabaseService) {
    super();
    this.db = database.db as Kysely<AuditTables>;
  }

  migrate(): Promise<void> {
    return this.database.migrate('audit', auditMigrations);
  }

  async append(records: readonly AuditRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    let inserted = 0;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < records.length; i += INSERT_BATCH) {
        const rows = records.slice(i, i + INSERT_BATCH).map(toRow);
        const result = await trx
          .insertInto('audit_records')
          .values(rows)
          // A replayed record (same id) is already stored: exactly once, whatever the retries.
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
    });
    return inserted;
  }

  async list(filter: AuditFilter, limit: number, before?: string): Promise<AuditRecord[]> {
    let query = this.filtered(filter).selectAll();
    if (before) query = query.where('id', '<', before);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(fromRow);
  }

  async get(id: string): Promise<AuditRecord | null> {
    const row = await this.db.selectFrom('audit_records').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async summary(filter: AuditFilter, topSources: number): Promise<AuditSummary> {
    const counts = await this.filtered(filter)
      .select(['type', 'outcome', (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy(['type', 'outcome'])
      .orderBy('type')
      .orderBy('outcome')
      .execute();
    const sources = await this.filtered(filter)
      .where('outcome', '=', 'failure')
      .where('ip', 'is not', null)
      .select(['ip', (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy('ip')
      .orderBy('count', 'desc')
      .orderBy('ip')
      .limit(topSources)
      .execute();
    return {
      counts: counts.map((row) => ({ type: row.type, outcome: row.outcome, count: Number(row.count) })),
      topFailureSources: sources.map((row) => ({ ip: row.ip!, count: Number(row.count) })),
    };
  }

  async chains(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('audit_records')
      .select('chain')
      .distinct()
      .orderBy('chain')
      .execute();
    return rows.map((row) => row.chain);
  }

  async chainSlice(chain: string, afterSeq: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.db
      .selectFrom('audit_records')
      .selectAll()
      .where('chain', '=', chain)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  async anchor(chain: string): Promise<ChainAnchor | null> {
    const row = await this.db
      .selectFrom('audit_chain_anchors')
      .selectAll()
      .where('chain', '=', chain)
      .executeTakeFirst();
    return row ? { chain: row.chain, seq: Number(row.seq), prevHash: row.prev_hash } : null;
  }

  async purgeBatch(cutoff: string, limit: number): Promise<number> {
    // Only a chain's oldest run is deleted (never a record in the middle), so what remains still
    // verifies from its new anchor.
    for (const chain of await this.chains()) {
      const deleted = await this.db.transaction().execute(async (trx) => {
        const keepFrom = await trx
          .selectFrom('audit_records')
          .select((eb) => eb.fn.min<number | string>('seq').as('seq'))
          .where('chain', '=', chain)
          .where('occurred_at', '>=', cutoff)
          .executeTakeFirst();
        let victims = trx.selectFrom('audit_records').select('id').where('chain', '=', chain);
        if (keepFrom?.seq !== null && keepFrom?.seq !== undefined) {
          victims = victims.where('seq', '<', Number(keepFrom.seq));
        }
        const ids = (await victims.orderBy('seq').limit(limit).execute()).map((row) => row.id);
        if (ids.length === 0) return 0;
        await trx.deleteFrom('audit_records').where('id', 'in', ids).execute();
        const first = await trx
          .selectFrom('audit_records')
          .select(['seq', 'prev_hash'])
          .where('chain', '=', chain)
          .orderBy('seq')
          .limit(1)
          .executeTakeFirst();
        if (first) {
          await trx
            .insertInto('audit_chain_anchors')
            .values({ chain, seq: first.seq, prev_hash: first.prev_hash })
            .onConflict((oc) =>
              oc.column('chain').doUpdateSet({ seq: first.seq, prev_hash: first.prev_hash }),
            )
            .execute();
        }
        return ids.length;
      });
      if (deleted > 0) return deleted;
    }
    return 0;
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditTables, 'audit_records', object> {
    let query = this.db.selectFrom('audit_records');
    if (filter.types && filter.types.length > 0) query = query.where('type', 'in', [...filter.types]);
    if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
    if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
    if (filter.userId) query = query.where('user_id', '=', filter.userId);
    if (filter.ip) query = query.where('ip', '=', filter.ip);
    if (filter.orgId) query = query.where('org_id', '=', filter.orgId);
    if (filter.from) query = query.where('occurred_at', '>=', filter.from);
    if (filter.to) query = query.where('occurred_at', '<', filter.to);
    return query;
  }
}

function toRow(record: AuditRecord): AuditRow {
  return {
    id: record.id,
    chain: record.chain,
    seq: record.seq,
    occurred_at: record.occurredAt,
    type: record.type,
    outcome: record.outcome,
    reason: record.reason ?? null,
    user_id: record.actor.userId ?? null,
    agent_id: record.actor.agentId ?? null,
    role: record.actor.role ?? null,
    org_id: record.orgId ?? null,
    ip: record.source.ip ?? null,
    user_agent: record.source.userAgent ?? null,
    socket_id: record.source.socketId ?? null,
    transport: record.source.transport,
    target: record.target ?? null,
    details: record.details === undefined ? null : JSON.stringify(record.details),
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

/** Null columns become absent fields, exactly as the record was built, so its hash still matches. */
export function fromRow(row: AuditRow): AuditRecord {
  const record: AuditRecord = {
    id: row.id,
    occurredAt: row.occurred_at,
    type: row.type as SecurityEventType,
    outcome: row.outcome as AuditRecord['outcome'],
    actor: compact({ userId: row.user_id, agentId: row.agent_id, role: row.role }),
    source: {
      ...compact({ ip: row.ip, userAgent: row.user_agent, socketId: row.socket_id }),
      transport: row.transport as Transport,
    },
    chain: row.chain,
    seq: Number(row.seq),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.reason !== null) record.reason = row.reason;
  if (row.org_id !== null) record.orgId = row.org_id;
  if (row.target !== null) record.target = row.target;
  if (row.details !== null) record.details = JSON.parse(row.details) as Record<string, unknown>;
  return record;
}

function compact<T extends Record<string, string | null>>(values: T): { [K in keyof T]?: string } {
  const result: { [K in keyof T]?: string } = {};
  for (const key of Object.keys(values) as (keyof T)[]) {
    const value = values[key];
    if (value !== null) result[key] = value;
  }
  return result;
}
