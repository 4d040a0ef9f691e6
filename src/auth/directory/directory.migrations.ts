import { Kysely, Migration } from 'kysely';

/**
 * Directory tables. Only types that behave the same in SQLite and Postgres (text, integer,
 * bigint), booleans as integer 0/1, JSON as text: one code path for both dialects. Routing rules
 * have a text id `<poolId>:<index>` rather than a dialect-specific autoincrement.
 * Migrations are append-only: never edit one that has shipped, add the next.
 */
export const directoryMigrations: Record<string, Migration> = {
  '2026_11_22_001_directory': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('rna_timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('max_call_duration_minutes', 'integer', (c) => c.notNull())
        .addColumn('widget_settings', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('pools')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('is_default', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pools_org_id_idx').on('pools').column('org_id').execute();
      await db.schema
        .createTable('routing_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id'))
        .addColumn('path_pattern', 'text', (c) => c.notNull())
        .addColumn('domain_pattern', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('routing_rules_pool_id_idx')
        .on('routing_rules')
        .column('pool_id')
        .execute();
      await db.schema
        .createTable('directory_users')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('agent_id', 'text', (c) => c.unique())
        .addColumn('org_id', 'text', (c) => c.references('organizations.id'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('avatar_url', 'text')
        .addColumn('wave_video_url', 'text')
        .addColumn('intro_video_url', 'text')
        .addColumn('connect_video_url', 'text')
        .addColumn('loop_video_url', 'text')
        .addColumn('active', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('directory_users_org_id_idx')
        .on('directory_users')
        .column('org_id')
        .execute();
      await db.schema
        .createTable('pool_memberships')
        .addColumn('user_id', 'text', (c) => c.notNull().references('directory_users.user_id'))
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id'))
        .addColumn('priority_rank', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pool_memberships_pk', ['user_id', 'pool_id'])
        .execute();
      // The primary key serves lookups by user; this one serves "who is in this pool".
      await db.schema
        .createIndex('pool_memberships_pool_id_idx')
        .on('pool_memberships')
        .column('pool_id')
        .execute();
      await db.schema
        .createTable('agent_revocations')
        .addColumn('agent_id', 'text', (c) => c.primaryKey())
        .addColumn('revoked_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '2026_12_07_001_pool_widget_settings': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      // A pool may override its organisation's widget settings (JSON text, `{}` for none).
      await db.schema
        .alterTable('pools')
        .addColumn('widget_settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  },
};
