import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migration, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pool } from 'pg';
import { AppConfig } from '../../config/app-config';

export type Dialect = 'sqlite' | 'postgres';

/**
 * One Kysely instance over better-sqlite3 (embedded default) or pg (`DATABASE_URL`): one code path
 * for both. Features own their tables and migrations and run them through `migrate`.
 */
@Injectable()
export class DatabaseService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseService.name);
  readonly dialect: Dialect;
  // Feature stores narrow this to their own table interfaces.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;

  constructor(config: AppConfig) {
    if (config.databaseUrl) {
      this.dialect = 'postgres';
      const pool = new Pool({
        connectionString: config.databaseUrl,
        max: 10,
        connectionTimeoutMillis: 5_000,
      });
      // A connection killed by the server (restart, failover, pg_terminate_backend) emits 'error':
      // on the pool while it is idle, on the client itself while a query holds it. Unhandled, either
      // would crash the process. The query in flight rejects, the pool drops the broken connection
      // and opens a fresh one on next use; a lasting outage is reported by the queries that need it.
      const lost = (error: Error): void => this.logger.warn(`postgres connection lost: ${error.message}`);
      pool.on('error', lost);
      pool.on('connect', (client) => client.on('error', lost));
      this.db = new Kysely({ dialect: new PostgresDialect({ pool }) });
      this.logger.log(`database: postgres (${redactUrl(config.databaseUrl)})`);
    } else {
      this.dialect = 'sqlite';
      mkdirSync(dirname(config.sqlitePath), { recursive: true });
      const sqlite = new SqliteDatabase(config.sqlitePath);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('busy_timeout = 5000');
      sqlite.pragma('foreign_keys = ON');
      this.db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
      this.logger.log(`database: sqlite (${config.sqlitePath})`);
    }
  }

  /** Runs a feature's migrations, tracked in its own table so features stay independent. */
  async migrate(feature: string, migrations: Record<string, Migration>): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: () => Promise.resolve(migrations) },
      migrationTableName: `${feature}_migrations`,
      migrationLockTableName: `${feature}_migrations_lock`,
    });
    const { error, results } = await migrator.migrateToLatest();
    for (const result of results ?? []) {
      if (result.status === 'Success')
        this.logger.log(`migration ${feature}/${result.migrationName} applied`);
    }
    if (error)
      throw error instanceof Error ? error : new Error(`migration ${feature} failed: ${String(error)}`);
  }

  /** True when the database answers a trivial query (readiness). */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  /** Closed last, after every module's destroy and shutdown-preparation hooks have written what they hold. */
  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}

function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
