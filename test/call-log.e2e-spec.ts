import { Logger } from '@nestjs/common';
import SqliteDatabase from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import request, { Response } from 'supertest';
import { v7 as uuidv7 } from 'uuid';
import type { PublicAuditRecord } from '../src/audit/audit-query.service';
import { AuditRecorder } from '../src/audit/audit-recorder.service';
import { CallLog, CallLogEntry } from '../src/call-log/call-log';
import type { CallLogRecord } from '../src/call-log/call-log-record';
import { CallLogWriter } from '../src/call-log/call-log-writer.service';
import { CallLogStore } from '../src/call-log/call-log.store';
import type { SecurityEvent } from '../src/common/security/security-event';
import type { CallEndReason } from '../src/signaling/protocol';
import { AGENTS_FILE, startApp, TestApp } from './helpers/app';
import {
  DATABASE_URL,
  onEachDatabase,
  openPostgres,
  OpenedDatabase,
  useAppOnDatabase,
} from './helpers/databases';
import { fixtures } from './helpers/directory-fixtures';
import { Exposition } from './helpers/exposition';
import { TEST_HS256_SECRET } from './helpers/keys';
import { spawnServer } from './helpers/process';
import { agentOnline, joinVisitor, startCall, startSignalingApp } from './helpers/signaling';

/**
 * `GET /admin/calls` (PROTOCOL §4) against the real app, real tokens and the real database (SQLite
 * always, Postgres when DATABASE_URL is set). Rows are written the way the signaling module writes
 * them: through the app's CallLog provider, then the writer's flush.
 */

const directory = JSON.parse(readFileSync(AGENTS_FILE, 'utf8')) as {
  users: { userId: string; agentId?: string; orgId?: string; role: string }[];
};
const ACME = fixtures.admin.orgId!;
function ofAnotherOrg(role: string): { userId: string; agentId?: string; orgId: string } {
  const user = directory.users.find((u) => u.role === role && u.orgId && u.orgId !== ACME);
  if (!user) throw new Error(`config/agents.example.json has no ${role} outside ${ACME}`);
  return { userId: user.userId, agentId: user.agentId, orgId: user.orgId! };
}
const globexAdmin = ofAnotherOrg('admin');
const GLOBEX = globexAdmin.orgId;
const ACME_AGENT = fixtures.agent.agentId;
const GLOBEX_AGENT = ofAnotherOrg('agent').agentId!;

const USERS = {
  agent: fixtures.agent.userId,
  auditor: fixtures.auditor.userId,
  admin: fixtures.admin.userId,
  globexAdmin: globexAdmin.userId,
  platform: fixtures.platformAdmin.userId,
};
type Who = keyof typeof USERS;

const ITEM_KEYS = [
  'agentId',
  'callId',
  'callLogId',
  'durationSeconds',
  'endReason',
  'endedAt',
  'orgId',
  'pageUrl',
  'requestedAt',
  'startedAt',
  'visitorId',
].sort();

interface CallSeed {
  orgId?: string;
  agentId?: string;
  startedAt: number;
  /** Milliseconds after the start; the call is still running while undefined. */
  endsAfterMs?: number;
  endReason?: CallEndReason;
}

/** What the signaling module hands the CallLog for a call. */
function entryOf(seed: CallSeed): CallLogEntry {
  const callLogId = uuidv7();
  return {
    callLogId,
    callId: `call_${callLogId}`,
    orgId: seed.orgId ?? ACME,
    agentId: seed.agentId ?? ACME_AGENT,
    visitorId: `visitor_${callLogId.slice(-8)}`,
    pageUrl: 'https://www.acme.example/pricing',
    requestedAt: seed.startedAt - 2_500,
    startedAt: seed.startedAt,
  };
}

/** Logs the calls as the signaling module does: a start, then an end for those that ended. */
function logCalls(callLog: CallLog, seeds: CallSeed[]): CallLogRecord[] {
  return seeds.map((seed) => {
    const entry = entryOf(seed);
    callLog.started(entry);
    if (seed.endsAfterMs === undefined)
      return { ...entry, endedAt: null, endReason: null, durationSeconds: null };
    const endedAt = seed.startedAt + seed.endsAfterMs;
    const endReason = seed.endReason ?? 'agent_ended';
    callLog.ended({ ...entry, endedAt, endReason });
    return { ...entry, endedAt, endReason, durationSeconds: Math.round(seed.endsAfterMs / 1000) };
  });
}

const DAY = 24 * 3600_000;
/**
 * Midnight UTC 40 days ago: inside the retention horizon (90 days), so that no boot-time purge,
 * in-process or in a spawned server, ever touches the rows the tests log.
 */
const BASE = Math.floor(Date.now() / DAY) * DAY - 40 * DAY;

/** A day per test group: rows seeded there are the only ones its time-bounded queries see. */
function day(n: number): { start: number; from: string; to: string } {
  const start = BASE + n * DAY;
  return { start, from: String(start), to: String(start + DAY) };
}

const newestFirst = (rows: CallLogRecord[]): CallLogRecord[] =>
  [...rows].sort((a, b) => b.startedAt - a.startedAt || (a.callLogId < b.callLogId ? 1 : -1));

function callLogSuite(open: () => Promise<OpenedDatabase>): void {
  const booted = useAppOnDatabase(open, USERS);

  const path = (params: Record<string, string> = {}): string => {
    const query = new URLSearchParams(params).toString();
    return `/admin/calls${query ? `?${query}` : ''}`;
  };

  const call = (url: string, who?: Who): request.Test => {
    const req = request(booted.app.app.getHttpServer()).get(url);
    return who ? req.set('Authorization', `Bearer ${booted.tokens[who]}`) : req;
  };

  async function seed(seeds: CallSeed[]): Promise<CallLogRecord[]> {
    const rows = logCalls(booted.app.app.get(CallLog), seeds);
    await booted.app.app.get(CallLogWriter).flush();
    return rows;
  }

  async function list(who: Who, params: Record<string, string>): Promise<CallLogRecord[]> {
    const res = await call(path({ limit: '500', ...params }), who).expect(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items as CallLogRecord[];
  }

  /** Follows nextCursor to the end; `between` runs after each page (to log calls mid-walk). */
  async function walk(
    who: Who,
    params: Record<string, string>,
    between: () => Promise<void> = () => Promise.resolve(),
  ): Promise<{ items: CallLogRecord[]; pages: number[] }> {
    const items: CallLogRecord[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await call(path(cursor ? { ...params, cursor } : params), who).expect(200);
      items.push(...(res.body.items as CallLogRecord[]));
      pages.push(res.body.items.length);
      cursor = res.body.nextCursor as string | null;
      await between();
    } while (cursor !== null);
    return { items, pages };
  }

  const reads = (): SecurityEvent[] =>
    booted.app.events.filter((event) => event.type === 'admin.call_log_read');

  describe('who sees what', () => {
    const window = day(0);
    const range = { from: window.from, to: window.to };
    let acme: CallLogRecord[];
    let globex: CallLogRecord[];

    beforeAll(async () => {
      acme = await seed([
        { startedAt: window.start + 1_000, endsAfterMs: 42_400, endReason: 'visitor_ended' },
        { startedAt: window.start + 2_000 },
      ]);
      globex = await seed([
        { orgId: GLOBEX, agentId: GLOBEX_AGENT, startedAt: window.start + 3_000, endsAfterMs: 500 },
      ]);
    });

    it('refuses without a token (401) and to an agent (403)', async () => {
      const anonymous = await call(path(range));
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({ statusCode: 401, error: expect.any(String), code: 'AUTH_REQUIRED' });
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      const agent = await call(path(range), 'agent');
      expect(agent.status).toBe(403);
      expect(agent.body).toEqual({ statusCode: 403, error: expect.any(String), code: 'FORBIDDEN' });
    });

    it.each<[Who, 'acme' | 'globex']>([
      ['auditor', 'acme'],
      ['admin', 'acme'],
      ['globexAdmin', 'globex'],
    ])('%s sees the calls of their own organisation only (%s)', async (who, own) => {
      const expected = own === 'acme' ? acme : globex;
      expect(await list(who, range)).toEqual(newestFirst(expected));
    });

    it('serves every field, times as epoch ms, the end fields null while the call runs', async () => {
      const [running, ended] = await list('admin', range);
      expect(Object.keys(ended).sort()).toEqual(ITEM_KEYS);
      expect(Object.keys(running).sort()).toEqual(ITEM_KEYS);
      expect(ended).toEqual({
        ...acme[0],
        endedAt: window.start + 1_000 + 42_400,
        endReason: 'visitor_ended',
        durationSeconds: 42,
      });
      expect(running).toMatchObject({ endedAt: null, endReason: null, durationSeconds: null });
      expect(typeof running.startedAt).toBe('number');
      expect(typeof running.requestedAt).toBe('number');
    });

    it('shows a platform admin every organisation, and one on request', async () => {
      expect(await list('platform', range)).toEqual(newestFirst([...acme, ...globex]));
      expect(await list('platform', { ...range, orgId: GLOBEX })).toEqual(globex);
      expect(await list('platform', { ...range, orgId: ACME })).toEqual(newestFirst(acme));
    });

    it('refuses the orgId filter to auditors and admins (403), even for their own organisation', async () => {
      for (const [who, orgId] of [
        ['auditor', ACME],
        ['admin', GLOBEX],
        ['globexAdmin', GLOBEX],
      ] as [Who, string][]) {
        const res = await call(path({ ...range, orgId }), who);
        expect({ who, status: res.status, body: res.body }).toEqual({
          who,
          status: 403,
          body: { statusCode: 403, error: expect.any(String), code: 'FORBIDDEN' },
        });
      }
    });

    it('shows an ended call again once its end is logged, in the same row', async () => {
      const [running] = acme.filter((row) => row.endedAt === null);
      booted.app.app
        .get(CallLog)
        .ended({ ...running, endedAt: running.startedAt + 90_000, endReason: 'max_duration' });
      await booted.app.app.get(CallLogWriter).flush();
      const rows = await list('auditor', range);
      expect(rows).toHaveLength(2);
      expect(rows.find((row) => row.callLogId === running.callLogId)).toEqual({
        ...running,
        endedAt: running.startedAt + 90_000,
        endReason: 'max_duration',
        durationSeconds: 90,
      });
    });
  });

  describe('filters', () => {
    const window = day(1);
    const at = (second: number): number => window.start + second * 1000;
    const agents = [ACME_AGENT, 'agent_bob', 'agent_cara'];
    const reasons: (CallEndReason | undefined)[] = ['agent_ended', 'visitor_ended', 'timeout', undefined];
    let rows: CallLogRecord[];

    beforeAll(async () => {
      rows = await seed(
        Array.from({ length: 24 }, (_, n) => ({
          agentId: agents[n % 3],
          startedAt: at(n),
          endsAfterMs: reasons[n % 4] ? 1_000 * (n + 1) : undefined,
          endReason: reasons[n % 4],
        })),
      );
    });

    const range = { from: window.from, to: window.to };
    type Case = [string, Record<string, string>, (row: CallLogRecord, n: number) => boolean];
    const cases: Case[] = [
      ['agentId', { agentId: 'agent_bob' }, (row) => row.agentId === 'agent_bob'],
      ['endReason', { endReason: 'timeout' }, (row) => row.endReason === 'timeout'],
      ['from (ISO, inclusive)', { from: new Date(at(10)).toISOString() }, (_row, n) => n >= 10],
      ['to (epoch ms, exclusive)', { to: String(at(7)) }, (_row, n) => n < 7],
      [
        'from with an offset and to',
        { from: new Date(at(3) + 3600_000).toISOString().replace('Z', '+01:00'), to: String(at(9)) },
        (_row, n) => n >= 3 && n < 9,
      ],
      [
        'agentId + endReason',
        { agentId: 'agent_cara', endReason: 'visitor_ended' },
        (row) => row.agentId === 'agent_cara' && row.endReason === 'visitor_ended',
      ],
    ];

    it.each(cases)('%s narrows the list', async (_name, params, predicate) => {
      const expected = newestFirst(rows.filter((row, n) => predicate(row, n)));
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(rows.length);
      expect(await list('auditor', { ...range, ...params })).toEqual(expected);
    });

    it('orders by startedAt, not by end', async () => {
      const items = await list('auditor', range);
      expect(items.map((item) => item.startedAt)).toEqual(rows.map((row) => row.startedAt).reverse());
    });
  });

  describe('paging', () => {
    const window = day(2);
    const agentId = 'agent_cara';
    let originals: string[];
    let running: CallLogRecord[];

    beforeAll(async () => {
      // 300 calls over 100 distinct start times: ties are broken by callLogId.
      const rows = await seed(
        Array.from({ length: 300 }, (_, n) => ({
          agentId,
          startedAt: window.start + Math.floor(n / 3) * 1000,
          endsAfterMs: n % 2 ? 5_000 : undefined,
        })),
      );
      // Another organisation's calls in the same window and with the same agent id must not show.
      await seed([{ orgId: GLOBEX, agentId, startedAt: window.start + 50_000 }]);
      originals = newestFirst(rows).map((row) => row.callLogId);
      running = rows.filter((row) => row.endedAt === null);
    });

    const range = { from: window.from, to: window.to };

    it('walks every call exactly once, newest first, with nextCursor null at the end', async () => {
      const { items, pages } = await walk('admin', { ...range, agentId, limit: '128' });
      expect(pages).toEqual([128, 128, 44]);
      expect(items.map((item) => item.callLogId)).toEqual(originals);
    });

    it('stays exact while calls keep starting and ending during the walk', async () => {
      let added = 0;
      const { items, pages } = await walk('admin', { agentId, limit: '37' }, async () => {
        // A new call starts (newer than anything walked) and one of the walked window's calls ends.
        await seed([{ agentId, startedAt: Date.now() + added }]);
        added += 1;
        const ending = running.pop()!;
        booted.app.app
          .get(CallLog)
          .ended({ ...ending, endedAt: ending.startedAt + 1_000, endReason: 'agent_ended' });
        await booted.app.app.get(CallLogWriter).flush();
      });
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(originals.length / 37));
      expect(added).toBe(pages.length);
      // The walk covers what existed when it began: in the window, in its order, each once.
      expect(items.map((item) => item.callLogId).filter((id) => originals.includes(id))).toEqual(originals);
      expect(new Set(items.map((item) => item.callLogId)).size).toBe(items.length);
      expect(items.every((item) => item.orgId === ACME)).toBe(true);
    });

    it('pages a platform admin through every organisation', async () => {
      const { items } = await walk('platform', { ...range, agentId, limit: '100' });
      expect(items).toHaveLength(301);
      expect(items.filter((item) => item.orgId === GLOBEX)).toHaveLength(1);
    });
  });

  describe('query validation', () => {
    const badQueries: [string, Record<string, string>][] = [
      ['limit', { limit: '0' }],
      ['limit', { limit: '501' }],
      ['limit', { limit: '2.5' }],
      ['limit', { limit: 'ten' }],
      ['from', { from: 'yesterday' }],
      ['from', { from: '2026-02-30' }],
      ['from', { from: '2026-11-22T08:00:00' }],
      ['to', { to: '-5' }],
      ['cursor', { cursor: '%%%' }],
      ['cursor', { cursor: Buffer.from('not-a-position').toString('base64url') }],
      ['cursor', { cursor: Buffer.from(`12:${uuidv7()}`).toString('base64url') + '=' }],
      ['endReason', { endReason: 'hung_up' }],
      ['agentId', { agentId: 'bad id!' }],
      ['orgId', { orgId: 'org acme' }],
      ['unknown', { unknown: '1' }],
      ['type', { type: 'auth.login' }],
    ];

    it.each(badQueries)('a bad %s is a 400 naming it, and is not a read', async (field, params) => {
      const before = reads().length;
      const res = await call(path(params), 'platform');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: expect.any(String), code: 'INVALID_PAYLOAD' });
      expect((res.body.details as { field: string }[]).map((detail) => detail.field)).toContain(field);
      expect(reads()).toHaveLength(before);
    });

    it('authenticates before it validates: a bad query without a token is 401', async () => {
      expect((await call(path({ limit: '0' }))).status).toBe(401);
    });
  });

  describe('every read is recorded', () => {
    const window = day(3);
    const range = { from: window.from, to: window.to };

    beforeAll(() => seed([{ startedAt: window.start }, { startedAt: window.start + 1 }]));

    /** Runs `read` and returns the one admin.call_log_read it published. */
    async function onlyRead(read: () => Promise<unknown>): Promise<SecurityEvent> {
      const before = reads().length;
      await read();
      const published = reads().slice(before);
      expect(published).toHaveLength(1);
      return published[0];
    }

    it('one admin.call_log_read per list, naming reader, route, filters and the count returned', async () => {
      const listed = await onlyRead(() =>
        call(path({ ...range, endReason: 'timeout', limit: '5' }), 'auditor').expect(200),
      );
      expect(listed).toMatchObject({
        type: 'admin.call_log_read',
        outcome: 'success',
        actor: expect.objectContaining({ userId: USERS.auditor, role: 'auditor' }),
        orgId: ACME,
        source: expect.objectContaining({ transport: 'http', ip: '127.0.0.1' }),
        target: 'GET /admin/calls',
        details: {
          operation: 'list',
          filters: { ...range, endReason: 'timeout' },
          limit: 5,
          cursor: false,
          returned: 0,
        },
      });
      const paged = await onlyRead(() => call(path({ ...range, limit: '1' }), 'admin').expect(200));
      expect(paged.details).toMatchObject({ limit: 1, cursor: false, returned: 1 });
    });

    it('records a refused read too (an orgId filter from an admin), once', async () => {
      const refused = await onlyRead(() => call(path({ orgId: GLOBEX }), 'admin').expect(403));
      expect(refused).toMatchObject({
        type: 'admin.call_log_read',
        outcome: 'failure',
        reason: 'org_filter_not_allowed',
        code: 'FORBIDDEN',
        details: { operation: 'list', filters: { orgId: GLOBEX } },
      });
    });

    it('stores the reads in the audit trail, where the organisation finds them by type', async () => {
      await call(path(range), 'admin').expect(200);
      await booted.app.app.get(AuditRecorder).flush();
      const res = await request(booted.app.app.getHttpServer())
        .get(`/admin/audit/events?type=admin.call_log_read&userId=${USERS.admin}&limit=1`)
        .set('Authorization', `Bearer ${booted.tokens.auditor}`)
        .expect(200);
      const [latest] = res.body.items as PublicAuditRecord[];
      expect(latest).toMatchObject({
        type: 'admin.call_log_read',
        outcome: 'success',
        orgId: ACME,
        target: 'GET /admin/calls',
        details: { operation: 'list', filters: range, returned: 2 },
      });
    });
  });
}

onEachDatabase('GET /admin/calls', callLogSuite);

describe('call log: nothing lost when the database fails', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const T = BASE + 10 * DAY;
  const seeds = (count: number, from: number): CallSeed[] =>
    Array.from({ length: count }, (_, i) => ({ startedAt: T + (from + i) * 1000 }));

  /** Every stored row, checked against what was logged: each exactly once, with its latest state. */
  async function expectStored(testApp: TestApp, logged: Map<string, CallLogRecord>): Promise<void> {
    const rows = await testApp.app.get(CallLogStore).list({ from: T }, 100_000);
    expect(rows).toHaveLength(logged.size);
    expect(new Map(rows.map((row) => [row.callLogId, row]))).toEqual(logged);
  }

  /** Logs starts of `fresh` calls and ends of `ending` earlier ones, noting in `logged` how each row now stands. */
  function traffic(
    testApp: TestApp,
    logged: Map<string, CallLogRecord>,
    fresh: CallSeed[],
    ending: CallLogRecord[] = [],
  ): void {
    const callLog = testApp.app.get(CallLog);
    for (const row of logCalls(callLog, fresh)) logged.set(row.callLogId, row);
    for (const row of ending) {
      const ended = {
        ...row,
        endedAt: row.startedAt + 30_000,
        endReason: 'timeout' as const,
        durationSeconds: 30,
      };
      callLog.ended(ended);
      logged.set(row.callLogId, ended);
    }
  }

  it('SQLite locked by another process: rows spill, then are stored exactly once', async () => {
    const testApp = await startApp({ AUDIT_FLUSH_INTERVAL_MS: '60000' });
    const writer = testApp.app.get(CallLogWriter);
    const logged = new Map<string, CallLogRecord>();
    const rowsTotal = async (): Promise<Exposition> =>
      new Exposition(
        await testApp.app.get(Registry).getSingleMetricAsString('signalgate_call_log_rows_total'),
      );
    try {
      // Every result is exposed from the first scrape, at zero.
      const first = await rowsTotal();
      for (const result of ['written', 'spilled', 'replayed', 'write_failed'])
        expect({ result, value: first.value('signalgate_call_log_rows_total', { result }) }).toEqual({
          result,
          value: 0,
        });
      traffic(testApp, logged, seeds(10, 0));
      await writer.flush();
      await expectStored(testApp, logged);

      // Another process takes the write lock: the app's writes fail (SQLITE_BUSY) after its timeout.
      const intruder = new SqliteDatabase(testApp.config.sqlitePath);
      intruder.exec('BEGIN EXCLUSIVE');
      try {
        traffic(testApp, logged, seeds(15, 10), [...logged.values()].slice(0, 5));
        await writer.flush();
        expect(writer.stats().spilled).toBe(20);
      } finally {
        intruder.exec('ROLLBACK');
        intruder.close();
      }
      traffic(testApp, logged, seeds(5, 25), [...logged.values()].slice(10, 13));
      await writer.flush();
      await expectStored(testApp, logged);
      expect([...logged.values()].filter((row) => row.endedAt !== null)).toHaveLength(8);
      expect(writer.stats()).toMatchObject({ replayed: 20, queueDepth: 0 });
      const after = await rowsTotal();
      expect(after.value('signalgate_call_log_rows_total', { result: 'written' })).toBe(18);
      expect(after.value('signalgate_call_log_rows_total', { result: 'spilled' })).toBe(20);
      expect(after.value('signalgate_call_log_rows_total', { result: 'replayed' })).toBe(20);
      expect(
        after.value('signalgate_call_log_rows_total', { result: 'write_failed' }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await testApp.close();
    }
  }, 60_000);

  const POSTGRES_LOSS =
    'Postgres connections terminated and refused: rows spill, then are stored exactly once';
  // Without DATABASE_URL a real skip, counted as skipped, the reason printed and in its title.
  if (!DATABASE_URL)
    process.stdout.write('call log loss on Postgres: skipped because DATABASE_URL is not set\n');
  const onPostgres = DATABASE_URL ? it : it.skip;
  onPostgres(
    DATABASE_URL ? POSTGRES_LOSS : `${POSTGRES_LOSS} (skipped: DATABASE_URL not set)`,
    async () => {
      const opened = await openPostgres();
      await opened.database.onApplicationShutdown();
      const testApp = await startApp({ ...opened.env, AUDIT_FLUSH_INTERVAL_MS: '60000' });
      const admin = new Client({ connectionString: DATABASE_URL });
      await admin.connect();
      const name = new URL(opened.env.DATABASE_URL).pathname.slice(1);
      const writer = testApp.app.get(CallLogWriter);
      const logged = new Map<string, CallLogRecord>();
      try {
        traffic(testApp, logged, seeds(10, 0));
        await writer.flush();
        // The outage: no new connections, and every open one killed.
        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
          name,
        ]);
        traffic(testApp, logged, seeds(25, 10), [...logged.values()].slice(0, 4));
        await writer.flush();
        expect(writer.stats().spilled).toBe(29);

        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
        traffic(testApp, logged, seeds(5, 35));
        await writer.flush();
        await expectStored(testApp, logged);
      } finally {
        await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
        await admin.end();
        await testApp.close();
        await opened.dispose();
      }
    },
    60_000,
  );
});

describe('call log: nothing lost through a graceful shutdown', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signalgate-call-log-shutdown-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Rows in the SQLite file, read by another connection: [total, ended]. */
  function countRows(db: string): [number, number] {
    const sqlite = new SqliteDatabase(db, { readonly: true });
    try {
      const row = sqlite
        .prepare(
          'select count(*) as total, count(ended_at) as ended, count(distinct call_log_id) as ids from call_log',
        )
        .get() as { total: number; ended: number; ids: number };
      expect(row.ids).toBe(row.total);
      return [row.total, row.ended];
    } finally {
      sqlite.close();
    }
  }

  it('rows queued at shutdown are stored; rows logged after it are replayed by the next server, which stops on SIGTERM', async () => {
    const db = join(dir, 'calls.db');
    const spillPath = join(dir, 'call-log-spill.ndjson');
    const env = {
      SQLITE_PATH: db,
      CALL_LOG_SPILL_PATH: spillPath,
      AUDIT_SPILL_PATH: join(dir, 'audit-spill.ndjson'),
      AUTH_JWT_SECRET: TEST_HS256_SECRET,
    };
    // Long flush interval and large batches: everything is still queued in memory at shutdown.
    const testApp = await startApp({ ...env, AUDIT_FLUSH_INTERVAL_MS: '60000', AUDIT_BATCH_SIZE: '10000' });
    const callLog = testApp.app.get(CallLog);
    const rows = logCalls(
      callLog,
      Array.from({ length: 300 }, (_, i) => ({
        startedAt: BASE + 20 * DAY + i,
        endsAfterMs: i % 3 ? undefined : 1_000,
      })),
    );
    expect(testApp.app.get(CallLogWriter).stats()).toMatchObject({ written: 0, queueDepth: 400 });
    // What SIGTERM runs in main.ts: the shutdown hooks, the writer's flush among them.
    await testApp.close();
    expect(countRows(db)).toEqual([300, 100]);

    // A call that ends while the server is going away: its end goes to the spill file.
    const late = rows.filter((row) => row.endedAt === null).slice(0, 50);
    for (const row of late) callLog.ended({ ...row, endedAt: row.startedAt + 2_000, endReason: 'error' });
    expect(countRows(db)).toEqual([300, 100]);
    expect(existsSync(spillPath)).toBe(true);

    // The real entry point on the same files: the boot replays the spill file; SIGTERM stops it.
    const server = spawnServer({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', ...env });
    await server.listening();
    expect(server.output()).toContain('replayed 50 spilled call log records');
    server.child.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
    expect(countRows(db)).toEqual([300, 150]);
    expect(existsSync(spillPath)).toBe(false);
    expect(existsSync(`${spillPath}.replaying`)).toBe(false);
  }, 120_000);

  it('a call still live when the server stops: its row ends with the process on in-memory state, and stays open on Redis', async () => {
    const db = join(dir, 'live-call.db');
    const testApp = await startSignalingApp({
      SQLITE_PATH: db,
      CALL_LOG_SPILL_PATH: join(dir, 'live.ndjson'),
    });
    const agent = await agentOnline(testApp, 'a1');
    const visitor = await joinVisitor(testApp);
    const { callId } = await startCall(agent, visitor);
    // The stop itself cuts the connections: the call is held for its parties, then the process goes.
    await testApp.close({ keepClients: true });
    const sqlite = new SqliteDatabase(db, { readonly: true });
    const row = sqlite.prepare('select ended_at, end_reason from call_log where call_id = ?').get(callId);
    sqlite.close();
    agent.socket.disconnect();
    visitor.socket.disconnect();
    // On Redis the call lives on for whichever instance its parties reconnect to.
    expect(row).toEqual(
      process.env.SIGNALGATE_TEST_STATE === 'redis'
        ? { ended_at: null, end_reason: null }
        : { ended_at: expect.any(Number), end_reason: 'error' },
    );
  });
});
