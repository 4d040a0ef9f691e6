import { Kysely, Migration } from 'kysely';

/**
 * The call log, in the same database as the audit trail. Text, integer and bigint columns only, so
 * SQLite and Postgres share one code path; times are epoch milliseconds (bigint: they do not fit
 * Postgres' integer). Append-only migrations: never edit one that has shipped.
 */
export const callLogMigrations: Record<string, Migration> = {
  '2026_12_07_001_call_log': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('call_log')
        .addColumn('call_log_id', 'text', (c) => c.primaryKey())
        .addColumn('call_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('visitor_id', 'text', (c) => c.notNull())
        .addColumn('page_url', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('end_reason', 'text')
        .addColumn('duration_seconds', 'integer')
        .execute();
      // The list is ordered by (started_at, call_log_id), the keyset of its cursor: one index for the
      // whole table and one per filter that narrows it, each ending in that keyset.
      await db.schema
        .createIndex('call_log_started_idx')
        .on('call_log')
        .columns(['started_at', 'call_log_id'])
        .execute();
      await db.schema
        .createIndex('call_log_org_idx')
        .on('call_log')
        .columns(['org_id', 'started_at', 'call_log_id'])
        .execute();
      await db.schema
        .createIndex('call_log_agent_idx')
        .on('call_log')
        .columns(['agent_id', 'started_at', 'call_log_id'])
        .execute();
      // Retention deletes by end time.
      await db.schema.createIndex('call_log_ended_idx').on('call_log').column('ended_at').execute();
    },
  },
};
