import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { hashRecord } from '../src/audit/audit-hash';
import { AuditRecord, GENESIS_HASH } from '../src/audit/audit-record';
import { AuditVerifier } from '../src/audit/audit-verifier.service';
import { KyselyAuditStore } from '../src/audit/kysely-audit.store';
import { onEachDatabase, OpenedDatabase, useDatabase } from './helpers/databases';

/** A chain of `count` valid records, `stepMs` apart, starting at `startMs`. */
function chainOf(chain: string, count: number, startMs: number, stepMs = 1000, firstSeq = 0): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < count; i += 1) {
    const unsigned: Omit<AuditRecord, 'hash'> = {
      id: uuidv7(),
      occurredAt: new Date(startMs + i * stepMs).toISOString(),
      type: i % 3 === 0 ? 'auth.login' : 'auth.required',
      outcome: i % 2 === 0 ? 'failure' : 'success',
      actor: i % 4 === 0 ? {} : { userId: `u-${i % 5}`, agentId: `agent_${i % 5}`, role: 'agent' },
      source: { transport: 'ws', ip: `10.0.0.${i % 7}`, socketId: `s-${i}` },
      chain,
      seq: firstSeq + i,
      prevHash,
    };
    if (i % 2 === 0) unsigned.reason = 'invalid_token';
    if (i % 3 !== 1) unsigned.orgId = i % 3 === 0 ? 'org_a' : 'org_b';
    if (i % 5 === 0) unsigned.details = { code: 'AUTH_INVALID_TOKEN', nested: { n: i, list: [1, 'x'] } };
    unsigned.target = 'agent:login';
    const record = { ...unsigned, hash: hashRecord(unsigned) };
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

function auditStoreSuite(open: () => Promise<OpenedDatabase>): void {
  const opened = useDatabase(open, (database) => new KyselyAuditStore(database).migrate(), [
    'audit_records',
    'audit_chain_anchors',
  ]);
  let store: KyselyAuditStore;
  let verifier: AuditVerifier;
  const T0 = Date.parse('2026-11-01T00:00:00.000Z');

  beforeAll(() => {
    store = new KyselyAuditStore(opened().database);
    verifier = new AuditVerifier(store);
  });

  it('round-trips records exactly (hash still matches) and ignores replayed ids', async () => {
    const records = chainOf('c1', 20, T0);
    expect(await store.append(records)).toBe(20);
    expect(await store.append(records.slice(5, 15))).toBe(0);
    for (const record of records) {
      const stored = await store.get(record.id);
      expect(stored).toEqual(record);
      expect(hashRecord(stored!)).toBe(record.hash);
    }
    expect(await store.get(uuidv7())).toBeNull();
  });

  it('lists newest first with keyset paging: every record exactly once over 1,200 records', async () => {
    const records = [...chainOf('c1', 700, T0, 10), ...chainOf('c2', 500, T0 + 5, 10)];
    await store.append(records);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const items = await store.list({}, 97, cursor);
      if (items.length === 0) break;
      seen.push(...items.map((item) => item.id));
      cursor = items[items.length - 1].id;
    }
    const expected = records.map((r) => r.id).sort((a, b) => (a < b ? 1 : -1));
    expect(seen).toEqual(expected);
  });

  it('filters by type, outcome, agent, user, ip, organisation and time range', async () => {
    const records = chainOf('c1', 60, T0);
    await store.append(records);
    const count = async (filter: Parameters<KyselyAuditStore['list']>[0]): Promise<number> =>
      (await store.list(filter, 500)).length;
    expect(await count({ types: ['auth.login'] })).toBe(
      records.filter((r) => r.type === 'auth.login').length,
    );
    expect(await count({ types: ['auth.login', 'auth.required'] })).toBe(60);
    expect(await count({ outcome: 'failure' })).toBe(30);
    expect(await count({ agentId: 'agent_1' })).toBe(
      records.filter((r) => r.actor.agentId === 'agent_1').length,
    );
    expect(await count({ userId: 'u-2' })).toBe(records.filter((r) => r.actor.userId === 'u-2').length);
    expect(await count({ ip: '10.0.0.3' })).toBe(records.filter((r) => r.source.ip === '10.0.0.3').length);
    expect(await count({ orgId: 'org_a' })).toBe(records.filter((r) => r.orgId === 'org_a').length);
    const from = new Date(T0 + 10_000).toISOString();
    const to = new Date(T0 + 20_000).toISOString();
    // from inclusive, to exclusive: records 10..19.
    expect(await count({ from, to })).toBe(10);
  });

  it('summarises counts by type × outcome and the top failing sources', async () => {
    const records = chainOf('c1', 70, T0);
    await store.append(records);
    const summary = await store.summary({}, 3);
    const total = summary.counts.reduce((sum, row) => sum + row.count, 0);
    expect(total).toBe(70);
    expect(summary.counts).toContainEqual({
      type: 'auth.login',
      outcome: 'failure',
      count: records.filter((r) => r.type === 'auth.login' && r.outcome === 'failure').length,
    });
    expect(summary.topFailureSources).toHaveLength(3);
    const failuresByIp = new Map<string, number>();
    for (const r of records.filter((r) => r.outcome === 'failure'))
      failuresByIp.set(r.source.ip!, (failuresByIp.get(r.source.ip!) ?? 0) + 1);
    const best = Math.max(...failuresByIp.values());
    expect(summary.topFailureSources[0].count).toBe(best);
  });

  describe('verify', () => {
    it('is ok on a clean store, across several chains', async () => {
      await store.append([...chainOf('c1', 50, T0), ...chainOf('c2', 30, T0)]);
      expect(await verifier.verify()).toEqual({ ok: true, checked: 80 });
    });

    it('finds a record altered in the database', async () => {
      const records = chainOf('c1', 30, T0);
      await store.append(records);
      await opened()
        .database.db.updateTable('audit_records')
        .set({ reason: 'nothing_to_see' })
        .where('id', '=', records[12].id)
        .execute();
      expect(await verifier.verify()).toEqual({ ok: false, checked: 13, firstBadId: records[12].id });
    });

    it('finds a deleted record (at the next one, whose link is broken)', async () => {
      const records = chainOf('c1', 30, T0);
      await store.append(records);
      await opened().database.db.deleteFrom('audit_records').where('id', '=', records[7].id).execute();
      expect(await verifier.verify()).toMatchObject({ ok: false, firstBadId: records[8].id });
    });

    it('finds two swapped records', async () => {
      const records = chainOf('c1', 30, T0);
      await store.append(records);
      const db = opened().database.db;
      await db.updateTable('audit_records').set({ seq: -1 }).where('id', '=', records[20].id).execute();
      await db.updateTable('audit_records').set({ seq: 20 }).where('id', '=', records[21].id).execute();
      await db.updateTable('audit_records').set({ seq: 21 }).where('id', '=', records[20].id).execute();
      expect(await verifier.verify()).toMatchObject({ ok: false, firstBadId: records[21].id });
    });

    it('finds a deleted first record', async () => {
      const records = chainOf('c1', 5, T0);
      await store.append(records);
      await opened().database.db.deleteFrom('audit_records').where('id', '=', records[0].id).execute();
      expect(await verifier.verify()).toMatchObject({ ok: false, firstBadId: records[1].id });
    });
  });

  describe('retention', () => {
    it('purges each chain’s oldest run in batches, leaving chains that still verify', async () => {
      await store.append([...chainOf('c1', 250, T0), ...chainOf('c2', 40, T0 + 500)]);
      const cutoff = new Date(T0 + 100_000).toISOString();
      let purged = 0;
      for (
        let batch = await store.purgeBatch(cutoff, 30);
        batch > 0;
        batch = await store.purgeBatch(cutoff, 30)
      ) {
        expect(batch).toBeLessThanOrEqual(30);
        purged += batch;
      }
      // c1: records 0..99 are before the cutoff; c2: all 40.
      expect(purged).toBe(140);
      expect(await verifier.verify()).toEqual({ ok: true, checked: 150 });
      expect((await store.anchor('c1'))?.seq).toBe(100);
      // Deleting the new first record is still detected, thanks to the anchor.
      const first = (await store.chainSlice('c1', -1, 1))[0];
      await opened().database.db.deleteFrom('audit_records').where('id', '=', first.id).execute();
      expect((await verifier.verify()).ok).toBe(false);
    });

    it('never deletes from the middle of a chain, even when times are out of order', async () => {
      const records = chainOf('c1', 10, T0);
      // Record 3 claims to be older than the cutoff though later records are newer.
      await store.append(records);
      await opened()
        .database.db.updateTable('audit_records')
        .set({ occurred_at: new Date(T0 + 20_000).toISOString() })
        .where('id', '=', records[2].id)
        .execute();
      expect(await store.purgeBatch(new Date(T0 + 5_000).toISOString(), 100)).toBe(2);
      expect((await store.chainSlice('c1', -1, 100)).map((r) => r.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });

  it('uses its indexes for the keyset list', async () => {
    // Guards against a migration losing the indexes the admin queries rely on.
    const indexes =
      opened().database.dialect === 'sqlite'
        ? await sql<{
            name: string;
          }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_records'`.execute(
            opened().database.db,
          )
        : await sql<{
            name: string;
          }>`select indexname as name from pg_indexes where tablename = 'audit_records'`.execute(
            opened().database.db,
          );
    const names = indexes.rows.map((row) => row.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'audit_chain_seq_idx',
        'audit_occurred_idx',
        'audit_org_idx',
        'audit_type_idx',
      ]),
    );
  });
}

onEachDatabase('KyselyAuditStore', auditStoreSuite);
