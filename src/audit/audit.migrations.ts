import { Kysely, Migration } from 'kysely';

/**
 * Audit tables, in the same database as the directory. Text and integer columns only, so SQLite
 * and Postgres share one code path; timestamps are ISO 8601 UTC strings, which sort like time.
 * Append-only migrations: never edit one that has shipped.
 */
export const auditMigrations: Record<string, Migration> = {
  '2026_11_30_001_audit': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('audit_records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('chain', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('user_id', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('role', 'text')
        .addColumn('org_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('socket_id', 'text')
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('details', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      // Chain order for verification, and uniqueness of a position within a chain.
      await db.schema
        .createIndex('audit_chain_seq_idx')
        .on('audit_records')
        .columns(['chain', 'seq'])
        .unique()
        .execute();
      // Time ranges (summary, export, retention) and the list filters, each with id for keyset paging.
      await db.schema
        .createIndex('audit_occurred_idx')
        .on('audit_records')
        .columns(['occurred_at', 'id'])
        .execute();
      await db.schema.createIndex('audit_org_idx').on('audit_records').columns(['org_id', 'id']).execute();
      await db.schema.createIndex('audit_type_idx').on('audit_records').columns(['type', 'id']).execute();
      await db.schema
        .createIndex('audit_agent_idx')
        .on('audit_records')
        .columns(['agent_id', 'id'])
        .execute();
      await db.schema.createIndex('audit_ip_idx').on('audit_records').columns(['ip', 'id']).execute();
      await db.schema
        .createTable('audit_chain_anchors')
        .addColumn('chain', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
