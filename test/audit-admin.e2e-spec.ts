import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import request, { Response } from 'supertest';
import { v7 as uuidv7 } from 'uuid';
import { writeWithBackpressure } from '../src/audit/audit-export';
import type { PublicAuditRecord } from '../src/audit/audit-query.service';
import { AuditRecorder } from '../src/audit/audit-recorder.service';
import type { SecurityActor, SecurityEvent, SecurityEventType } from '../src/common/security/security-event';
import { SecurityEventBus } from '../src/common/security/security-event-bus.service';
import { AGENTS_FILE } from './helpers/app';
import { onEachDatabase, OpenedDatabase, useAppOnDatabase } from './helpers/databases';
import { fixtures } from './helpers/directory-fixtures';

/**
 * The admin audit endpoints of PROTOCOL §4 and §7 against the real app, real tokens and the real
 * database (SQLite always, Postgres when DATABASE_URL is set). Records are produced the way
 * production produces them: security events on the bus, then the recorder's flush.
 */

const directory = JSON.parse(readFileSync(AGENTS_FILE, 'utf8')) as {
  users: { userId: string; orgId?: string; role: string }[];
};
const ACME = fixtures.auditor.orgId!;
function ofAnotherOrg(role: string): { userId: string; orgId: string } {
  const user = directory.users.find((u) => u.role === role && u.orgId && u.orgId !== ACME);
  if (!user) throw new Error(`config/agents.example.json has no ${role} outside ${ACME}`);
  return { userId: user.userId, orgId: user.orgId! };
}
const globexAuditor = ofAnotherOrg('auditor');
const globexAdmin = ofAnotherOrg('admin');
const GLOBEX = globexAuditor.orgId;

const USERS = {
  agent: fixtures.agent.userId,
  auditor: fixtures.auditor.userId,
  admin: fixtures.admin.userId,
  globexAuditor: globexAuditor.userId,
  globexAdmin: globexAdmin.userId,
  platform: fixtures.platformAdmin.userId,
};
type Who = keyof typeof USERS;

const CSV_HEADER = [
  'id',
  'occurredAt',
  'type',
  'outcome',
  'reason',
  'orgId',
  'userId',
  'agentId',
  'role',
  'ip',
  'userAgent',
  'socketId',
  'transport',
  'target',
  'details',
];

interface Seed {
  type?: SecurityEventType;
  outcome?: 'success' | 'failure';
  reason?: string;
  orgId?: string;
  actor?: SecurityActor;
  ip?: string;
  userAgent?: string;
  target?: string;
  details?: Record<string, unknown>;
  occurredAt?: number;
}

function toEvent(seed: Seed): SecurityEvent {
  const base = {
    type: seed.type ?? ('auth.login' as const),
    actor: seed.actor,
    orgId: seed.orgId,
    source: { transport: 'ws' as const, ip: seed.ip, userAgent: seed.userAgent },
    target: seed.target,
    details: seed.details,
    occurredAt: seed.occurredAt,
  };
  return seed.outcome === 'failure'
    ? { ...base, outcome: 'failure', reason: seed.reason ?? 'invalid_token' }
    : { ...base, outcome: 'success', reason: seed.reason };
}

/**
 * A day of 2001 per test group, each in its own month: records seeded there are the only ones the
 * group's time-bounded queries see.
 */
function day(month: number): { start: number; end: number; from: string; to: string } {
  const start = Date.UTC(2001, month, 1);
  const end = start + 24 * 3600_000;
  return { start, end, from: String(start), to: String(end) };
}

/** The same instant written with a +01:00 offset. */
const plusOneHour = (ms: number): string => new Date(ms + 3600_000).toISOString().replace('Z', '+01:00');

/** RFC 4180, strictly: quoted fields may hold `,`, `""` and CRLF; records end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      i += 1;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i += 1;
          break;
        } else {
          field += text[i];
          i += 1;
        }
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        throw new Error(`text after a closing quote at ${i}`);
      }
    } else if (c === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`bare line break at ${i}`);
    } else {
      field += c;
      i += 1;
    }
  }
  if (field !== '' || row.length > 0) throw new Error('last record does not end with CRLF');
  return rows;
}

/** What PROTOCOL §7 says a record's CSV row holds, neutralisation included. */
function expectedCsvRow(record: PublicAuditRecord): string[] {
  const neutral = (value: string | undefined): string =>
    value === undefined ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return [
    record.id,
    record.occurredAt,
    record.type,
    record.outcome,
    record.reason,
    record.orgId,
    record.actor.userId,
    record.actor.agentId,
    record.actor.role,
    record.source.ip,
    record.source.userAgent,
    record.source.socketId,
    record.source.transport,
    record.target,
    record.details === undefined ? undefined : JSON.stringify(record.details),
  ].map(neutral);
}

const tagsOf = (items: PublicAuditRecord[]): unknown[] => items.map((item) => item.details?.tag).sort();

function auditSuite(open: () => Promise<OpenedDatabase>): void {
  const booted = useAppOnDatabase(open, USERS);

  const path = (route: string, params: Record<string, string | string[]> = {}): string => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
    }
    const query = search.toString();
    return `/admin/audit/${route}${query ? `?${query}` : ''}`;
  };

  const call = (url: string, who?: Who): request.Test => {
    const req = request(booted.app.app.getHttpServer()).get(url);
    return who ? req.set('Authorization', `Bearer ${booted.tokens[who]}`) : req;
  };

  /** Buffers any body as text (supertest leaves application/x-ndjson unparsed otherwise). */
  const text = (url: string, who: Who): request.Test =>
    call(url, who)
      .buffer(true)
      .parse((res, done) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done(null, body));
      });

  async function seed(seeds: Seed[]): Promise<void> {
    const bus = booted.app.app.get(SecurityEventBus);
    for (const item of seeds) bus.publish(toEvent(item));
    await booted.app.app.get(AuditRecorder).flush();
  }

  async function list(who: Who, params: Record<string, string | string[]>): Promise<PublicAuditRecord[]> {
    const res = await call(path('events', { limit: '500', ...params }), who).expect(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items as PublicAuditRecord[];
  }

  /** Follows nextCursor to the end; `between` runs after each page (to add records mid-walk). */
  async function walk(
    who: Who,
    params: Record<string, string>,
    between: () => Promise<void> = () => Promise.resolve(),
  ): Promise<{ items: PublicAuditRecord[]; pages: number[] }> {
    const items: PublicAuditRecord[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await call(path('events', cursor ? { ...params, cursor } : params), who).expect(
        200,
      );
      items.push(...(res.body.items as PublicAuditRecord[]));
      pages.push(res.body.items.length);
      cursor = res.body.nextCursor as string | null;
      await between();
    } while (cursor !== null);
    return { items, pages };
  }

  const ndjson = (body: string): PublicAuditRecord[] =>
    body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as PublicAuditRecord);

  const count = (type: SecurityEventType): number => booted.app.events.filter((e) => e.type === type).length;

  describe('role matrix', () => {
    const window = day(2);
    let acme: PublicAuditRecord;
    let globex: PublicAuditRecord;
    let platformOnly: PublicAuditRecord;

    beforeAll(async () => {
      await seed([
        { orgId: ACME, details: { tag: 'acme' }, occurredAt: window.start + 1000 },
        { orgId: GLOBEX, details: { tag: 'globex' }, occurredAt: window.start + 2000 },
        {
          type: 'metrics.access',
          outcome: 'failure',
          reason: 'missing_key',
          details: { tag: 'platform' },
          occurredAt: window.start + 3000,
        },
      ]);
      const byTag = new Map(
        (await list('platform', { from: window.from, to: window.to })).map((r) => [r.details?.tag, r]),
      );
      acme = byTag.get('acme')!;
      globex = byTag.get('globex')!;
      platformOnly = byTag.get('platform')!;
    });

    const routes = (): string[] => [
      path('events', { from: window.from, to: window.to }),
      path(`events/${acme.id}`),
      path('summary', { from: window.from, to: window.to }),
      path('export', { from: window.from, to: window.to }),
      path('verify'),
    ];

    it('refuses every route without a token (401) and to an agent (403)', async () => {
      for (const url of routes()) {
        const anonymous = await call(url);
        expect({ url, status: anonymous.status, code: anonymous.body.code }).toEqual({
          url,
          status: 401,
          code: 'AUTH_REQUIRED',
        });
        const agent = await call(url, 'agent');
        expect({ url, status: agent.status, code: agent.body.code }).toEqual({
          url,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
    });

    it.each<[Who, string]>([
      ['auditor', 'acme'],
      ['admin', 'acme'],
      ['globexAuditor', 'globex'],
      ['globexAdmin', 'globex'],
    ])('%s sees only the records of their own organisation (%s)', async (who, own) => {
      const mine = own === 'acme' ? acme : globex;
      const theirs = own === 'acme' ? globex : acme;
      expect(tagsOf(await list(who, { from: window.from, to: window.to }))).toEqual([own]);

      expect((await call(path(`events/${mine.id}`), who).expect(200)).body).toEqual(mine);
      // Another organisation's record and a platform-only record look exactly like unknown ids.
      for (const hidden of [theirs, platformOnly]) {
        const res = await call(path(`events/${hidden.id}`), who);
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ statusCode: 404, error: expect.any(String), code: 'NOT_FOUND' });
      }

      const summary = await call(path('summary', { from: window.from, to: window.to }), who).expect(200);
      expect(summary.body.counts).toEqual([{ type: 'auth.login', outcome: 'success', count: 1 }]);
      expect(summary.body.topFailureSources).toEqual([]);

      const exported = await text(path('export', { from: window.from, to: window.to }), who).expect(200);
      expect(tagsOf(ndjson(exported.body as string))).toEqual([own]);

      const verify = await call(path('verify'), who);
      expect(verify.status).toBe(403);
      expect(verify.body.code).toBe('FORBIDDEN');
    });

    it('refuses the orgId filter to auditors and admins (403), even for their own organisation', async () => {
      for (const who of ['auditor', 'admin', 'globexAuditor'] as Who[]) {
        for (const route of ['events', 'summary', 'export']) {
          const res = await call(path(route, { orgId: ACME }), who);
          expect({ who, route, status: res.status, code: res.body.code }).toEqual({
            who,
            route,
            status: 403,
            code: 'FORBIDDEN',
          });
        }
      }
    });

    it('shows a platform admin everything, filters by orgId on request, and verifies', async () => {
      const range = { from: window.from, to: window.to };
      expect(tagsOf(await list('platform', range))).toEqual(['acme', 'globex', 'platform']);
      expect(tagsOf(await list('platform', { ...range, orgId: GLOBEX }))).toEqual(['globex']);
      for (const record of [acme, globex, platformOnly]) {
        expect((await call(path(`events/${record.id}`), 'platform').expect(200)).body).toEqual(record);
      }
      expect((await call(path(`events/${uuidv7()}`), 'platform')).status).toBe(404);

      const summary = await call(path('summary', range), 'platform').expect(200);
      expect(summary.body.counts).toEqual([
        { type: 'auth.login', outcome: 'success', count: 2 },
        { type: 'metrics.access', outcome: 'failure', count: 1 },
      ]);
      const acmeSummary = await call(path('summary', { ...range, orgId: ACME }), 'platform').expect(200);
      expect(acmeSummary.body.counts).toEqual([{ type: 'auth.login', outcome: 'success', count: 1 }]);

      const exported = await text(path('export', range), 'platform').expect(200);
      expect(tagsOf(ndjson(exported.body as string))).toEqual(['acme', 'globex', 'platform']);
      const globexOnly = await text(path('export', { ...range, orgId: GLOBEX }), 'platform').expect(200);
      expect(tagsOf(ndjson(globexOnly.body as string))).toEqual(['globex']);

      const verify = await call(path('verify'), 'platform').expect(200);
      expect(verify.body).toEqual({ ok: true, checked: expect.any(Number) });
      expect(verify.body.checked).toBeGreaterThanOrEqual(3);
    });

    it('serves records in the public shape of PROTOCOL §7 (no internal seq)', async () => {
      expect(Object.keys(acme).sort()).toEqual(
        [
          'actor',
          'chain',
          'details',
          'hash',
          'id',
          'occurredAt',
          'orgId',
          'outcome',
          'prevHash',
          'source',
          'type',
        ].sort(),
      );
      expect(platformOnly).toMatchObject({
        type: 'metrics.access',
        outcome: 'failure',
        reason: 'missing_key',
        source: { transport: 'ws' },
        occurredAt: new Date(window.start + 3000).toISOString(),
      });
      expect(platformOnly).not.toHaveProperty('orgId');
      expect(platformOnly).not.toHaveProperty('seq');
    });
  });

  describe('filters', () => {
    const window = day(3);
    const at = (second: number): number => window.start + second * 1000;
    const seeds: (Seed & { n: number })[] = [
      {
        n: 0,
        type: 'auth.login',
        orgId: ACME,
        actor: { userId: 'u-1', agentId: 'agent_f1' },
        ip: '10.3.0.1',
      },
      {
        n: 1,
        type: 'auth.login',
        outcome: 'failure',
        orgId: ACME,
        actor: { userId: 'u-1', agentId: 'agent_f1' },
        ip: '10.3.0.2',
      },
      { n: 2, type: 'auth.handshake', outcome: 'failure', orgId: ACME, ip: '10.3.0.2' },
      {
        n: 3,
        type: 'auth.forbidden',
        outcome: 'failure',
        orgId: GLOBEX,
        actor: { userId: 'u-2', agentId: 'agent_f2' },
        ip: '10.3.0.1',
      },
      { n: 4, type: 'metrics.access', ip: '2001:db8::7' },
      {
        n: 5,
        type: 'auth.refresh',
        orgId: GLOBEX,
        actor: { userId: 'u-2', agentId: 'agent_f2' },
        ip: '10.3.0.3',
      },
      {
        n: 6,
        type: 'auth.login',
        orgId: ACME,
        actor: { userId: 'u-3', agentId: 'agent_f3' },
        ip: '10.3.0.3',
      },
      { n: 7, type: 'ratelimit.blocked', outcome: 'failure', reason: 'rate_limited', ip: '10.3.0.2' },
      {
        n: 8,
        type: 'auth.logout',
        orgId: ACME,
        actor: { userId: 'u-1', agentId: 'agent_f1' },
        ip: '10.3.0.1',
      },
      { n: 9, type: 'auth.login', outcome: 'failure', orgId: GLOBEX, ip: '10.3.0.9' },
    ];

    beforeAll(() =>
      seed(seeds.map(({ n, ...item }) => ({ ...item, details: { tag: n }, occurredAt: at(n) }))),
    );

    const range = { from: window.from, to: window.to };
    type Case = [string, Record<string, string | string[]>, (s: Seed & { n: number }) => boolean];
    const cases: Case[] = [
      ['type', { type: 'auth.login' }, (s) => s.type === 'auth.login'],
      [
        'type list',
        { type: 'auth.login,auth.forbidden' },
        (s) => s.type === 'auth.login' || s.type === 'auth.forbidden',
      ],
      [
        'repeated type',
        { type: ['auth.refresh', 'metrics.access'] },
        (s) => s.type === 'auth.refresh' || s.type === 'metrics.access',
      ],
      ['outcome', { outcome: 'failure' }, (s) => s.outcome === 'failure'],
      ['outcome success', { outcome: 'success' }, (s) => s.outcome !== 'failure'],
      ['agentId', { agentId: 'agent_f1' }, (s) => s.actor?.agentId === 'agent_f1'],
      ['userId', { userId: 'u-2' }, (s) => s.actor?.userId === 'u-2'],
      ['ip', { ip: '10.3.0.2' }, (s) => s.ip === '10.3.0.2'],
      ['IPv6', { ip: '2001:db8::7' }, (s) => s.ip === '2001:db8::7'],
      ['orgId', { orgId: GLOBEX }, (s) => s.orgId === GLOBEX],
      ['from (ISO, inclusive)', { from: new Date(at(6)).toISOString() }, (s) => s.n >= 6],
      ['to (epoch ms, exclusive)', { to: String(at(3)) }, (s) => s.n < 3],
      [
        'from and to (date-time with an offset)',
        { from: plusOneHour(at(2)), to: new Date(at(5)).toISOString() },
        (s) => s.n >= 2 && s.n < 5,
      ],
      [
        'outcome + ip + type',
        { outcome: 'failure', ip: '10.3.0.2', type: 'auth.login,auth.handshake' },
        (s) => s.outcome === 'failure' && s.ip === '10.3.0.2' && s.type !== 'ratelimit.blocked',
      ],
    ];

    it.each(cases)('%s narrows the list and the export', async (_name, params, predicate) => {
      const query = { ...range, ...params };
      const expected = seeds
        .filter(predicate)
        .map((s) => s.n)
        .sort();
      const items = await list('platform', query);
      expect(tagsOf(items)).toEqual(expected);
      // Newest first.
      expect(items.map((item) => item.details?.tag)).toEqual([...expected].reverse());
      const exported = await text(path('export', query), 'platform').expect(200);
      expect(ndjson(exported.body as string)).toEqual(items);
    });

    it('applies the same filters inside an auditor’s organisation only', async () => {
      const items = await list('auditor', { ...range, outcome: 'failure' });
      expect(tagsOf(items)).toEqual(
        seeds.filter((s) => s.outcome === 'failure' && s.orgId === ACME).map((s) => s.n),
      );
      const byIp = await list('globexAdmin', { ...range, ip: '10.3.0.1' });
      expect(tagsOf(byIp)).toEqual([3]);
    });
  });

  describe('query validation', () => {
    const badQueries: [string, string, Record<string, string | string[]>][] = [
      ['events', 'from', { from: 'yesterday' }],
      ['events', 'from', { from: '2026-02-30' }],
      ['events', 'from', { from: '2026-11-22T08:00:00' }],
      ['events', 'to', { to: '2026-13-01T00:00:00Z' }],
      ['events', 'to', { to: '-5' }],
      ['events', 'type', { type: 'auth.nope' }],
      ['events', 'type', { type: 'auth.login,bogus' }],
      ['events', 'type', { type: '' }],
      ['events', 'limit', { limit: '0' }],
      ['events', 'limit', { limit: '501' }],
      ['events', 'limit', { limit: '2.5' }],
      ['events', 'limit', { limit: 'ten' }],
      ['events', 'cursor', { cursor: '%%%' }],
      ['events', 'cursor', { cursor: Buffer.from('not-a-record-id').toString('base64url') }],
      ['events', 'outcome', { outcome: 'maybe' }],
      ['events', 'ip', { ip: '999.1.1.1' }],
      ['events', 'agentId', { agentId: 'bad id!' }],
      ['events', 'orgId', { orgId: 'org acme' }],
      ['events', 'unknown', { unknown: '1' }],
      ['summary', 'from', { from: 'last week' }],
      ['summary', 'type', { type: 'auth.login' }],
      ['summary', 'limit', { limit: '10' }],
      ['export', 'format', { format: 'xml' }],
      ['export', 'to', { to: 'soon' }],
      ['export', 'cursor', { cursor: 'abc' }],
    ];

    it.each(badQueries)(
      'GET /admin/audit/%s: a bad %s is a 400 naming it, and is not a read',
      async (route, field, params) => {
        const reads = count('admin.audit_read') + count('admin.audit_export');
        const res = await call(path(route, params), 'platform');
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'INVALID_PAYLOAD' });
        expect((res.body.details as { field: string }[]).map((d) => d.field)).toContain(field);
        expect(count('admin.audit_read') + count('admin.audit_export')).toBe(reads);
      },
    );

    it('names the id of a malformed record id', async () => {
      const res = await call(path('events/not-a-uuid'), 'auditor');
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([{ field: 'id', message: expect.any(String) }]);
    });

    it('authenticates before it validates: a bad query without a token is 401', async () => {
      expect((await call(path('events', { limit: '0' }))).status).toBe(401);
    });
  });

  describe('over 1,000 generated records', () => {
    const TOTAL = 1_000;
    const agentId = 'agent_bulk';
    let added = 0;
    let originals: string[];

    /** New records of the same agent, stored while a walk is under way. */
    const addDuringWalk = async (): Promise<void> => {
      const batch = Array.from({ length: 25 }, () => ({
        outcome: 'failure' as const,
        reason: 'late_arrival',
        orgId: ACME,
        actor: { agentId },
        ip: '10.5.0.2',
        details: { n: -1, late: (added += 1) },
      }));
      await seed(batch);
    };

    beforeAll(async () => {
      await seed(
        Array.from({ length: TOTAL }, (_, n) => ({
          type: n % 3 === 0 ? ('auth.login' as const) : ('auth.handshake' as const),
          outcome: n % 4 === 0 ? ('failure' as const) : ('success' as const),
          orgId: n % 5 === 0 ? GLOBEX : ACME,
          actor: { agentId, userId: `user-${n % 7}` },
          ip: `10.5.${n % 2}.${n % 250}`,
          userAgent: n % 11 === 0 ? '-bulk, "quoted" agent' : 'bulk-agent/1.0',
          target: 'agent:login',
          details: { n, note: n % 13 === 0 ? 'line one\r\nline two, "two"' : 'plain' },
        })),
      );
      const { items } = await walk('platform', { agentId, limit: '500' });
      expect(items).toHaveLength(TOTAL);
      originals = items.map((item) => item.id);
    });

    function expectExactlyOnceNewestFirst(items: PublicAuditRecord[], expectedIds: string[]): void {
      const ids = items.map((item) => item.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...expectedIds].sort().reverse());
      // Creation order too: `n` was assigned in publishing order.
      const ns = items.map((item) => item.details?.n as number);
      expect(ns).toEqual([...ns].sort((a, b) => b - a));
    }

    it('walks every record exactly once, newest first, with nextCursor null at the end', async () => {
      const { items, pages } = await walk('platform', { agentId, limit: '500' });
      expect(pages).toEqual([500, 500]);
      expectExactlyOnceNewestFirst(items, originals);
      expect(items[0].details?.n).toBe(TOTAL - 1);
      expect(items[items.length - 1].details?.n).toBe(0);
    });

    it('stays exact while new records are published and stored during the walk', async () => {
      const before = added;
      const { items, pages } = await walk('platform', { agentId, limit: '100' }, addDuringWalk);
      expect(pages).toEqual(Array(10).fill(100));
      expect(added - before).toBe(250);
      // The walk covers what existed when it began; the newcomers are newer than its first page.
      expectExactlyOnceNewestFirst(items, originals);

      const fresh = await walk('platform', { agentId, limit: '500' });
      expect(fresh.items).toHaveLength(TOTAL + added);
      expect(new Set(fresh.items.map((item) => item.id)).size).toBe(TOTAL + added);
      expect(fresh.items.slice(added).map((item) => item.id)).toEqual(originals);
    });

    it('pages an auditor through their organisation only, with an odd page size and a filter', async () => {
      const expected = await walk('platform', { agentId, orgId: ACME, outcome: 'failure', limit: '500' });
      const { items, pages } = await walk(
        'auditor',
        { agentId, outcome: 'failure', limit: '37' },
        addDuringWalk,
      );
      expect(pages.length).toBe(Math.ceil(expected.items.length / 37));
      expect(items).toEqual(expected.items);
      expect(items.every((item) => item.orgId === ACME && item.outcome === 'failure')).toBe(true);
    });

    it('exports NDJSON and CSV that parse back to the same records', async () => {
      const { items } = await walk('platform', { agentId, limit: '500' });
      expect(items.length).toBeGreaterThan(TOTAL);

      const nd = await text(path('export', { agentId }), 'platform').expect(200);
      expect(nd.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(nd.headers['content-disposition']).toMatch(
        /^attachment; filename="signalgate-audit-[\w-]+\.ndjson"$/,
      );
      expect(ndjson(nd.body as string)).toEqual(items);

      const csv = await text(path('export', { agentId, format: 'csv' }), 'platform').expect(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toMatch(
        /^attachment; filename="signalgate-audit-[\w-]+\.csv"$/,
      );
      const [header, ...rows] = parseCsv(csv.body as string);
      expect(header).toEqual(CSV_HEADER);
      expect(rows).toEqual(items.map(expectedCsvRow));
      // And back: the cells rebuild each record's fields.
      const rebuilt = rows.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i]])));
      expect(rebuilt.map((row) => JSON.parse(row.details) as unknown)).toEqual(
        items.map((item) => item.details),
      );
      expect(rebuilt.map((row) => row.id)).toEqual(items.map((item) => item.id));
    });

    it('exports an auditor’s organisation only', async () => {
      const expected = await walk('auditor', { agentId, limit: '500' });
      const nd = await text(path('export', { agentId }), 'auditor').expect(200);
      expect(ndjson(nd.body as string)).toEqual(expected.items);
      const csv = await text(path('export', { agentId, format: 'csv' }), 'auditor').expect(200);
      expect(parseCsv(csv.body as string).slice(1)).toEqual(expected.items.map(expectedCsvRow));
    });

    it('streams the whole export to a client that reads slowly', async () => {
      const { items } = await walk('platform', { agentId, limit: '500' });
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpGet(
          `${booted.app.url}${path('export', { agentId })}`,
          { headers: { Authorization: `Bearer ${booted.tokens.platform}` } },
          (res) => {
            // Not reading for a while fills the socket buffers, so the server must wait for drain.
            res.pause();
            let received = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (received += chunk));
            res.on('end', () => resolve(received));
            res.on('error', reject);
            setTimeout(() => res.resume(), 300);
          },
        );
        req.on('error', reject);
      });
      expect(ndjson(body)).toEqual(items);
    });
  });

  describe('CSV neutralisation', () => {
    const window = day(4);

    it("prefixes cells a spreadsheet would evaluate with ' and quotes what RFC 4180 requires", async () => {
      const hostile: Seed[] = [
        {
          outcome: 'failure',
          reason: '=HYPERLINK("http://evil.example","click")',
          target: '+SUM(A1:A9)',
          userAgent: '-2+3',
          actor: { agentId: '@agent', userId: '=cmd|/C calc' },
          details: { tag: 'formula', note: '=1+1' },
        },
        { outcome: 'failure', reason: '\tindent', target: '\rreturn', userAgent: '@mention, "quoted"' },
        { reason: 'plain, with comma', target: 'line\r\nbreak', userAgent: 'Mozilla/5.0 "quoted"' },
      ];
      await seed(hostile.map((item, i) => ({ ...item, orgId: ACME, occurredAt: window.start + i })));
      const range = { from: window.from, to: window.to };
      const items = await list('platform', range);
      expect(items).toHaveLength(3);

      const csv = await text(path('export', { ...range, format: 'csv' }), 'auditor').expect(200);
      const raw = csv.body as string;
      expect(raw).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
      expect(raw).toContain(`,'+SUM(A1:A9),`);
      expect(raw).toContain(`,'-2+3,`);
      expect(raw).toContain(`,'@agent,`);
      const rows = parseCsv(raw).slice(1);
      expect(rows).toEqual(items.map(expectedCsvRow));
      const cells = rows.map((row) => Object.fromEntries(CSV_HEADER.map((column, i) => [column, row[i]])));
      const formula = cells.find((row) => row.reason.includes('HYPERLINK'))!;
      expect(formula).toMatchObject({
        reason: `'=HYPERLINK("http://evil.example","click")`,
        target: "'+SUM(A1:A9)",
        userAgent: "'-2+3",
        agentId: "'@agent",
        userId: "'=cmd|/C calc",
      });
      // A JSON cell starts with `{`: its content is not a cell start, so it stays as it is.
      expect(JSON.parse(formula.details)).toEqual({ tag: 'formula', note: '=1+1' });
      const tabbed = cells.find((row) => row.reason.includes('indent'))!;
      expect(tabbed).toMatchObject({
        reason: "'\tindent",
        target: "'\rreturn",
        userAgent: `'@mention, "quoted"`,
      });
      const plain = cells.find((row) => row.reason.startsWith('plain'))!;
      expect(plain).toMatchObject({ reason: 'plain, with comma', target: 'line\r\nbreak' });
      // No cell anywhere starts with a formula character.
      for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

      // NDJSON carries the values untouched.
      const nd = await text(path('export', range), 'auditor').expect(200);
      expect(ndjson(nd.body as string).map((r) => r.reason)).toEqual(items.map((r) => r.reason));
      expect(items.map((r) => r.reason)).toContain('=HYPERLINK("http://evil.example","click")');
    });
  });

  describe('summary', () => {
    const window = day(5);
    const failures: Seed[] = [];
    // Address k fails k times: a strict ranking, more addresses than the top 10.
    for (let k = 1; k <= 12; k += 1) {
      for (let i = 0; i < k; i += 1) {
        failures.push({
          type: i % 2 === 0 ? 'auth.login' : 'auth.handshake',
          outcome: 'failure',
          orgId: k % 2 === 1 ? ACME : GLOBEX,
          ip: `10.6.0.${k}`,
          occurredAt: window.start + 60_000 + k * 1000 + i,
        });
      }
    }
    const successes: Seed[] = [
      { type: 'auth.login', orgId: ACME, ip: '10.6.1.1', occurredAt: window.start },
      { type: 'auth.login', orgId: GLOBEX, ip: '10.6.1.1', occurredAt: window.start + 10 },
      { type: 'metrics.access', ip: '10.6.1.2', occurredAt: window.end - 1 },
      // Just outside the range on each side.
      { type: 'auth.login', orgId: ACME, occurredAt: window.start - 1 },
      { type: 'auth.login', orgId: ACME, occurredAt: window.end },
    ];

    beforeAll(() => seed([...failures, ...successes]));

    const countsOf = (seeds: Seed[]): { type: string; outcome: string; count: number }[] => {
      const counts = new Map<string, number>();
      for (const s of seeds) {
        if (s.occurredAt! < window.start || s.occurredAt! >= window.end) continue;
        const key = `${s.type}|${s.outcome ?? 'success'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return [...counts.entries()]
        .map(([key, count]) => ({ type: key.split('|')[0], outcome: key.split('|')[1], count }))
        .sort((a, b) => a.type.localeCompare(b.type) || a.outcome.localeCompare(b.outcome));
    };

    it('counts by type × outcome and ranks the top 10 failing addresses, from inclusive and to exclusive', async () => {
      const res = await call(path('summary', { from: window.from, to: window.to }), 'platform').expect(200);
      expect(res.body).toEqual({
        from: new Date(window.start).toISOString(),
        to: new Date(window.end).toISOString(),
        counts: countsOf([...failures, ...successes]),
        topFailureSources: Array.from({ length: 10 }, (_, i) => ({ ip: `10.6.0.${12 - i}`, count: 12 - i })),
      });
    });

    it('summarises an auditor’s organisation only', async () => {
      const res = await call(path('summary', { from: window.from, to: window.to }), 'auditor').expect(200);
      const own = [...failures, ...successes].filter((s) => s.orgId === ACME);
      expect(res.body.counts).toEqual(countsOf(own));
      expect(res.body.topFailureSources).toEqual(
        [11, 9, 7, 5, 3, 1].map((k) => ({ ip: `10.6.0.${k}`, count: k })),
      );
    });

    it('echoes from and to as ISO, whatever form they were sent in', async () => {
      const res = await call(
        path('summary', { from: plusOneHour(window.start), to: String(window.start + 60_000 + 3_000) }),
        'platform',
      ).expect(200);
      expect(res.body.from).toBe(new Date(window.start).toISOString());
      expect(res.body.to).toBe(new Date(window.start + 63_000).toISOString());
      // Addresses 1 and 2 only (their failures start at +61 s and +62 s).
      expect(res.body.topFailureSources).toEqual([
        { ip: '10.6.0.2', count: 2 },
        { ip: '10.6.0.1', count: 1 },
      ]);
    });

    it('defaults to the last 24 hours', async () => {
      const org = 'org_summary_default';
      const now = Date.now();
      await seed([
        { orgId: org, occurredAt: now - 25 * 3600_000 },
        { orgId: org, occurredAt: now - 23 * 3600_000 },
        { orgId: org, outcome: 'failure', ip: '10.6.2.1', occurredAt: now - 60_000 },
        { orgId: org, occurredAt: now + 3600_000 },
      ]);
      const before = Date.now();
      const res = await call(path('summary', { orgId: org }), 'platform').expect(200);
      const after = Date.now();
      const to = Date.parse(res.body.to as string);
      expect(to).toBeGreaterThanOrEqual(before);
      expect(to).toBeLessThanOrEqual(after);
      expect(to - Date.parse(res.body.from as string)).toBe(24 * 3600_000);
      expect(res.body.counts).toEqual([
        { type: 'auth.login', outcome: 'failure', count: 1 },
        { type: 'auth.login', outcome: 'success', count: 1 },
      ]);
      expect(res.body.topFailureSources).toEqual([{ ip: '10.6.2.1', count: 1 }]);
    });
  });

  describe('every read is itself recorded', () => {
    const window = day(6);
    let record: PublicAuditRecord;

    beforeAll(async () => {
      await seed([{ orgId: ACME, details: { tag: 'read' }, occurredAt: window.start }]);
      [record] = await list('platform', { from: window.from, to: window.to });
    });

    /** Runs `read` and returns the audit events it published, which must be exactly one. */
    async function onlyEvent(read: () => Promise<unknown>): Promise<SecurityEvent> {
      const seen = booted.app.events.length;
      await read();
      const published = booted.app.events
        .slice(seen)
        .filter((e) => e.type === 'admin.audit_read' || e.type === 'admin.audit_export');
      expect(published).toHaveLength(1);
      return published[0];
    }

    const reader = (who: Who, orgId?: string): Record<string, unknown> => ({
      actor: expect.objectContaining({ userId: USERS[who] }),
      orgId,
      source: expect.objectContaining({ transport: 'http', ip: '127.0.0.1' }),
    });

    it('one admin.audit_read per list, record, summary and verify, naming reader, route and filters', async () => {
      const listed = await onlyEvent(() =>
        call(
          path('events', { from: window.from, to: window.to, type: 'auth.login', limit: '5' }),
          'auditor',
        ).expect(200),
      );
      expect(listed).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'success',
        ...reader('auditor', ACME),
        target: 'GET /admin/audit/events',
        details: {
          operation: 'list',
          filters: { from: window.from, to: window.to, type: ['auth.login'] },
          limit: 5,
          returned: 1,
        },
      });
      expect(listed.actor).toMatchObject({ role: 'auditor' });

      const one = await onlyEvent(() => call(path(`events/${record.id}`), 'admin').expect(200));
      expect(one).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'success',
        ...reader('admin', ACME),
        target: 'GET /admin/audit/events/:id',
        details: { operation: 'get', recordId: record.id },
      });

      const summary = await onlyEvent(() => call(path('summary'), 'globexAuditor').expect(200));
      expect(summary).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'success',
        ...reader('globexAuditor', GLOBEX),
        target: 'GET /admin/audit/summary',
      });

      const verify = await onlyEvent(() => call(path('verify'), 'platform').expect(200));
      expect(verify).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'success',
        ...reader('platform'),
        target: 'GET /admin/audit/verify',
        details: { operation: 'verify', ok: true },
      });
      expect(verify.orgId).toBeUndefined();
    });

    it('one admin.audit_export per export, with the number of records, and no admin.audit_read', async () => {
      for (const format of ['ndjson', 'csv']) {
        const exported = await onlyEvent(() =>
          text(path('export', { from: window.from, to: window.to, format }), 'auditor').expect(200),
        );
        expect(exported).toMatchObject({
          type: 'admin.audit_export',
          outcome: 'success',
          ...reader('auditor', ACME),
          target: 'GET /admin/audit/export',
          details: { operation: 'export', format, records: 1, complete: true },
        });
      }
    });

    it('records refused reads too: a hidden record and an orgId filter, once each', async () => {
      const hidden = await onlyEvent(() => call(path(`events/${record.id}`), 'globexAdmin').expect(404));
      expect(hidden).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'failure',
        reason: 'not_found',
        ...reader('globexAdmin', GLOBEX),
      });
      const filtered = await onlyEvent(() => call(path('events', { orgId: GLOBEX }), 'auditor').expect(403));
      expect(filtered).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'failure',
        reason: 'org_filter_not_allowed',
        details: { filters: { orgId: GLOBEX } },
      });
      const exportRefused = await onlyEvent(() =>
        call(path('export', { orgId: GLOBEX }), 'admin').expect(403),
      );
      expect(exportRefused).toMatchObject({ type: 'admin.audit_export', outcome: 'failure' });
    });

    it('stores the read records in the trail, where platform admins find them', async () => {
      const seen = count('admin.audit_read');
      await call(path('events', { from: window.from, to: window.to }), 'admin').expect(200);
      expect(count('admin.audit_read')).toBe(seen + 1);
      await booted.app.app.get(AuditRecorder).flush();
      const [latest] = (
        await call(
          path('events', { type: 'admin.audit_read', userId: USERS.admin, limit: '1' }),
          'platform',
        ).expect(200)
      ).body.items as PublicAuditRecord[];
      expect(latest).toMatchObject({
        type: 'admin.audit_read',
        outcome: 'success',
        orgId: ACME,
        actor: { userId: USERS.admin, role: 'admin' },
        source: { transport: 'http', ip: '127.0.0.1' },
        target: 'GET /admin/audit/events',
        details: { operation: 'list', filters: { from: window.from, to: window.to } },
      });
      // The admin's own organisation sees who read its trail.
      const seenByAuditor = await call(path(`events/${latest.id}`), 'auditor').expect(200);
      expect(seenByAuditor.body).toEqual(latest);
    });
  });
}

onEachDatabase('Admin audit endpoints', auditSuite);

/** The export's writer over a real stream with a tiny buffer: it never runs ahead of the reader. */
describe('writeWithBackpressure', () => {
  function source(): { chunks: AsyncGenerator<string>; pulled: () => number; finished: () => boolean } {
    let pulled = 0;
    let finished = false;
    async function* chunks(): AsyncGenerator<string> {
      try {
        for (let i = 0; i < 5; i += 1) {
          pulled += 1;
          yield `chunk-${i};`;
        }
      } finally {
        finished = true;
      }
    }
    return { chunks: chunks(), pulled: () => pulled, finished: () => finished };
  }

  it('waits for drain before taking the next chunk, and ends the stream when done', async () => {
    const sink = new PassThrough({ highWaterMark: 4 });
    const { chunks, pulled } = source();
    const done = writeWithBackpressure(sink, chunks);
    await tick();
    await tick();
    // Nobody reads: the first write filled the buffer, so no second chunk was taken.
    expect(pulled()).toBe(1);
    let received = '';
    sink.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await expect(done).resolves.toBe(true);
    expect(pulled()).toBe(5);
    expect(received).toBe('chunk-0;chunk-1;chunk-2;chunk-3;chunk-4;');
    expect(sink.writableEnded).toBe(true);
  });

  it('stops taking chunks (and lets the source clean up) when the client goes away', async () => {
    const sink = new PassThrough({ highWaterMark: 4 });
    const { chunks, pulled, finished } = source();
    const done = writeWithBackpressure(sink, chunks);
    await tick();
    sink.destroy();
    await expect(done).resolves.toBe(false);
    expect(pulled()).toBe(1);
    expect(finished()).toBe(true);
  });
});
