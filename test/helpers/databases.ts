import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DatabaseService } from '../../src/common/database/database.service';
import { validateEnvironment } from '../../src/config/app-config';
import { startApp, TestApp } from './app';
import { mintHs256 } from './keys';

export interface OpenedDatabase {
  database: DatabaseService;
  /** The environment that points an app at this database (SQLITE_PATH or DATABASE_URL). */
  env: Record<string, string>;
  /** Called after the DatabaseService is closed. */
  dispose(): Promise<void>;
}

export const DATABASE_URL = process.env.DATABASE_URL;

/** A fresh SQLite file in a temporary directory. */
export function openSqlite(): Promise<OpenedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-db-'));
  const env = { SQLITE_PATH: join(dir, 'signalgate.db') };
  return Promise.resolve({
    database: new DatabaseService(validateEnvironment(env)),
    env,
    dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  });
}

/** A fresh Postgres database created for this run on DATABASE_URL's server, dropped afterwards. */
export async function openPostgres(): Promise<OpenedDatabase> {
  const name = `sg_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  // The name is generated above from hex digits only, so quoting it is safe.
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.toString() };
  return {
    database: new DatabaseService(validateEnvironment(env)),
    env,
    dispose: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * Runs `suite` on SQLite always and on Postgres when DATABASE_URL is set; otherwise the Postgres
 * variant prints why it is skipped (never silently).
 */
export function onEachDatabase(title: string, suite: (open: () => Promise<OpenedDatabase>) => void): void {
  describe(`${title} on SQLite`, () => suite(openSqlite));
  describe(`${title} on Postgres`, () => {
    if (!DATABASE_URL) {
      process.stdout.write(
        `${title} on Postgres: skipped because DATABASE_URL is not set ` +
          '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)\n',
      );
      // A real skip: the suite's cases count as skipped in the totals, the reason in the title.
      describe.skip('(skipped: DATABASE_URL not set)', () => suite(openPostgres));
      return;
    }
    suite(openPostgres);
  });
}

/**
 * Inside a describe: opens the database before the suite, empties `tables` (children first)
 * before each test, closes and removes it after. `migrate` creates the tables once.
 * Returns a getter for the opened database.
 */
export function useDatabase(
  open: () => Promise<OpenedDatabase>,
  migrate: (database: DatabaseService) => Promise<void>,
  tables: readonly string[],
): () => OpenedDatabase {
  let opened: OpenedDatabase | undefined;
  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    opened = await open();
    await migrate(opened.database);
  });
  afterAll(async () => {
    await opened?.database.onApplicationShutdown();
    await opened?.dispose();
    jest.restoreAllMocks();
  });
  beforeEach(async () => {
    for (const table of tables) await opened!.database.db.deleteFrom(table).execute();
  });
  return () => opened!;
}

export interface AppOnDatabase<W extends string> {
  app: TestApp;
  /** A Bearer token of each user, by the name the suite gave it. */
  tokens: Record<W, string>;
}

/**
 * Inside a describe: boots the real app on the database `open` prepares, with a token for each of
 * `users` (userIds of the directory), and closes both after the suite. The HTTP limit is out of the
 * way: these suites read many pages from 127.0.0.1, and the limit has its own test. The fields of
 * the returned object are set once the suite has started.
 */
export function useAppOnDatabase<W extends string>(
  open: () => Promise<OpenedDatabase>,
  users: Record<W, string>,
): AppOnDatabase<W> {
  const booted = { tokens: {} } as AppOnDatabase<W>;
  let opened: OpenedDatabase | undefined;
  beforeAll(async () => {
    // The helper's own DatabaseService logs which database it opened.
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    opened = await open();
    // startApp opens the database itself; this handle only created it.
    await opened.database.onApplicationShutdown();
    booted.app = await startApp({ ...opened.env, RATE_LIMIT_HTTP_MAX: '100000' });
    for (const who of Object.keys(users) as W[]) booted.tokens[who] = await mintHs256({ sub: users[who] });
  });
  afterAll(async () => {
    await booted.app?.close();
    await opened?.dispose();
    jest.restoreAllMocks();
  });
  return booted;
}
