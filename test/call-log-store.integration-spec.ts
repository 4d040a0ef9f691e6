import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { CallLogRecord, endedRecord, startedRecord } from '../src/call-log/call-log-record';
import type { CallLogFilter, CallLogPosition } from '../src/call-log/call-log.store';
import { KyselyCallLogStore } from '../src/call-log/kysely-call-log.store';
import type { CallEndReason } from '../src/signaling/protocol';
import { onEachDatabase, OpenedDatabase, useDatabase } from './helpers/databases';

/** 2026-11-01: epoch ms well beyond 32 bits, so bigint columns must really hold them. */
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const REASONS: CallEndReason[] = ['agent_ended', 'visitor_ended', 'timeout', 'max_duration'];

interface CallSeed {
  n: number;
  orgId?: string;
  agentId?: string;
  startedAt?: number;
  /** Seconds after the start; no end while undefined. */
  endsAfterS?: number;
  endReason?: CallEndReason;
}

/** The rows the CallLog would produce for one call: its start, and its end when it has one. */
function callRows(seed: CallSeed): { start: CallLogRecord; end?: CallLogRecord } {
  const startedAt = seed.startedAt ?? T0 + seed.n * 1000;
  const entry = {
    callLogId: uuidv7(),
    callId: `call_${seed.n}`,
    orgId: seed.orgId ?? 'org_a',
    agentId: seed.agentId ?? 'agent_a1',
    visitorId: `visitor_${seed.n}`,
    pageUrl: `https://www.a.example/pricing?n=${seed.n}`,
    requestedAt: startedAt - 4_000,
    startedAt,
  };
  const start = startedRecord(entry);
  if (seed.endsAfterS === undefined) return { start };
  const end = endedRecord({
    ...entry,
    endedAt: startedAt + seed.endsAfterS * 1000,
    endReason: seed.endReason ?? 'agent_ended',
  });
  return { start, end };
}

function callLogStoreSuite(open: () => Promise<OpenedDatabase>): void {
  const opened = useDatabase(open, (database) => new KyselyCallLogStore(database).migrate(), ['call_log']);
  let store: KyselyCallLogStore;

  beforeAll(() => {
    store = new KyselyCallLogStore(opened().database);
  });

  const all = (filter: CallLogFilter = {}): Promise<CallLogRecord[]> => store.list(filter, 100_000);

  it('stores a start as a running call, and its end completes the same row', async () => {
    const { start, end } = callRows({ n: 1, endsAfterS: 61.4, endReason: 'visitor_ended' });
    await store.upsert([start]);
    expect(await all()).toEqual([start]);
    expect(start).toMatchObject({ endedAt: null, endReason: null, durationSeconds: null });

    await store.upsert([end!]);
    const [row] = await all();
    expect(row).toEqual(end);
    expect(row).toMatchObject({
      callLogId: start.callLogId,
      endedAt: start.startedAt + 61_400,
      endReason: 'visitor_ended',
      durationSeconds: 61,
    });
    // Numbers, not the strings pg returns for bigint columns.
    expect(typeof row.startedAt).toBe('number');
    expect(typeof row.endedAt).toBe('number');
    expect(typeof row.requestedAt).toBe('number');
  });

  it('keeps an end whatever order replays arrive in: a later start or a second end changes nothing', async () => {
    const { start, end } = callRows({ n: 2, endsAfterS: 30, endReason: 'timeout' });
    await store.upsert([end!]);
    await store.upsert([start]);
    expect(await all()).toEqual([end]);

    const otherEnd = {
      ...end!,
      endedAt: end!.endedAt! + 5_000,
      endReason: 'error' as const,
      durationSeconds: 35,
    };
    await store.upsert([otherEnd]);
    expect(await all()).toEqual([end]);
    await store.upsert([otherEnd, start, end!]);
    expect(await all()).toEqual([end]);
  });

  it('stores the end of a call whose two rows arrive in one batch, in either order', async () => {
    const a = callRows({ n: 3, endsAfterS: 2 });
    const b = callRows({ n: 4, endsAfterS: 3 });
    const c = callRows({ n: 5 });
    await store.upsert([a.start, a.end!, b.end!, b.start, c.start, c.start]);
    const rows = await all();
    expect(rows).toHaveLength(3);
    expect(rows).toEqual(expect.arrayContaining([a.end, b.end, c.start]));
  });

  it('writes a batch all or nothing: one bad row leaves none of the batch stored', async () => {
    const good = Array.from({ length: 700 }, (_, n) => callRows({ n, endsAfterS: 10 }).end!);
    // A row the schema refuses (org_id is NOT NULL) in the second chunk of 500.
    const bad = { ...callRows({ n: 999 }).start, orgId: null as unknown as string };
    // Not `rejects.toThrow()`: better-sqlite3's native addon keeps the error class of the first test
    // file that loaded it, so in a shared worker its errors are not instances of this file's Error.
    const failure: unknown = await store.upsert([...good.slice(0, 600), bad, ...good.slice(600)]).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(String((failure as { message?: unknown }).message)).toMatch(/not null|null value/i);
    expect(await all()).toEqual([]);
    await store.upsert(good);
    expect(await all()).toHaveLength(700);
  });

  it('filters by organisation, agent, end reason and startedAt (from inclusive, to exclusive)', async () => {
    const seeds: CallSeed[] = Array.from({ length: 40 }, (_, n) => ({
      n,
      orgId: n % 3 === 0 ? 'org_b' : 'org_a',
      agentId: `agent_${n % 4}`,
      endsAfterS: n % 5 === 0 ? undefined : n,
      endReason: REASONS[n % REASONS.length],
    }));
    const rows = seeds.map(callRows).map(({ start, end }) => end ?? start);
    await store.upsert(rows);
    type Case = [CallLogFilter, (row: CallLogRecord, n: number) => boolean];
    const cases: Case[] = [
      [{}, () => true],
      [{ orgId: 'org_b' }, (row) => row.orgId === 'org_b'],
      [{ agentId: 'agent_1' }, (row) => row.agentId === 'agent_1'],
      [{ endReason: 'timeout' }, (row) => row.endReason === 'timeout'],
      [{ from: T0 + 10_000 }, (_row, n) => n >= 10],
      [{ to: T0 + 10_000 }, (_row, n) => n < 10],
      [
        { from: T0 + 5_000, to: T0 + 25_000, orgId: 'org_a' },
        (row, n) => n >= 5 && n < 25 && row.orgId === 'org_a',
      ],
      [
        { orgId: 'org_b', agentId: 'agent_3', endReason: 'agent_ended' },
        (row) => row.orgId === 'org_b' && row.agentId === 'agent_3' && row.endReason === 'agent_ended',
      ],
    ];
    for (const [filter, predicate] of cases) {
      const expected = rows
        .filter((row, n) => predicate(row, n))
        .map((row) => row.callLogId)
        .reverse();
      expect({ filter, ids: (await all(filter)).map((row) => row.callLogId) }).toEqual({
        filter,
        ids: expected,
      });
    }
  });

  it('pages newest first by (startedAt, callLogId): every row exactly once while rows keep arriving', async () => {
    // 600 calls over 150 distinct start times: ties are broken by callLogId.
    const rows = Array.from(
      { length: 600 },
      (_, n) => callRows({ n, startedAt: T0 + Math.floor(n / 4) * 1000 }).start,
    );
    await store.upsert(rows);
    const expected = [...rows]
      .sort((a, b) => b.startedAt - a.startedAt || (a.callLogId < b.callLogId ? 1 : -1))
      .map((row) => row.callLogId);

    const seen: string[] = [];
    let before: CallLogPosition | undefined;
    let late = 0;
    for (let page = 0; page < 100; page += 1) {
      const items = await store.list({}, 37, before);
      if (items.length === 0) break;
      seen.push(...items.map((item) => item.callLogId));
      before = items[items.length - 1];
      // New calls start while the walk goes on; some of the walked ones end meanwhile.
      await store.upsert([
        callRows({ n: 10_000 + late, startedAt: T0 + 3600_000 + late }).start,
        endedRecord({ ...items[0], endedAt: items[0].startedAt + 9_000, endReason: 'agent_ended' }),
      ]);
      late += 1;
    }
    expect(late).toBeGreaterThan(15);
    expect(seen).toEqual(expected);
    expect(await all()).toHaveLength(600 + late);
  });

  it('keeps an organisation’s pages to its own calls', async () => {
    const rows = Array.from(
      { length: 90 },
      (_, n) => callRows({ n, orgId: n % 2 ? 'org_a' : 'org_b' }).start,
    );
    await store.upsert(rows);
    const seen: CallLogRecord[] = [];
    let before: CallLogPosition | undefined;
    for (;;) {
      const items = await store.list({ orgId: 'org_a' }, 10, before);
      if (items.length === 0) break;
      seen.push(...items);
      before = items[items.length - 1];
    }
    expect(seen).toHaveLength(45);
    expect(seen.every((row) => row.orgId === 'org_a')).toBe(true);
  });

  it('purges only rows of calls that ended before the horizon, a bounded batch at a time', async () => {
    const DAY = 24 * 3600_000;
    const horizon = T0;
    const endedLongAgo = Array.from(
      { length: 25 },
      (_, n) => callRows({ n, startedAt: horizon - 200 * DAY + n, endsAfterS: 60 }).end!,
    );
    const endedAtHorizon = callRows({ n: 100, startedAt: horizon - 60_000, endsAfterS: 60 }).end!;
    const endedRecently = callRows({ n: 101, startedAt: horizon - DAY, endsAfterS: DAY / 1000 + 5 }).end!;
    // Started before the horizon but still running (or its end not yet stored): never purged.
    const running = callRows({ n: 102, startedAt: horizon - 300 * DAY }).start;
    await store.upsert([...endedLongAgo, endedAtHorizon, endedRecently, running]);

    const batches: number[] = [];
    for (
      let deleted = await store.purgeBatch(horizon, 10);
      deleted > 0;
      deleted = await store.purgeBatch(horizon, 10)
    ) {
      batches.push(deleted);
    }
    expect(batches).toEqual([10, 10, 5]);
    const left = (await all()).map((row) => row.callLogId).sort();
    expect(left).toEqual([endedAtHorizon.callLogId, endedRecently.callLogId, running.callLogId].sort());
  });

  it('has the indexes the list filters and retention rely on', async () => {
    const db = opened().database;
    const indexes =
      db.dialect === 'sqlite'
        ? await sql<{
            name: string;
          }>`select name from sqlite_master where type = 'index' and tbl_name = 'call_log'`.execute(db.db)
        : await sql<{
            name: string;
          }>`select indexname as name from pg_indexes where tablename = 'call_log'`.execute(db.db);
    expect(indexes.rows.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        'call_log_started_idx',
        'call_log_org_idx',
        'call_log_agent_idx',
        'call_log_ended_idx',
      ]),
    );
  });
}

onEachDatabase('KyselyCallLogStore', callLogStoreSuite);
