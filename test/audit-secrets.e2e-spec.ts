import { Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AuditRecorder } from '../src/audit/audit-recorder.service';
import type { AuditRecord } from '../src/audit/audit-record';
import { AuditStore } from '../src/audit/audit.store';
import type { AgentState, ErrorPayload } from '../src/signaling/protocol';
import { expectLoginRefused, login } from './helpers/agent';
import { connected, next, request as ask, startApp, TestApp } from './helpers/app';
import { onEachDatabase, OpenedDatabase } from './helpers/databases';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256, TEST_HS256_SECRET } from './helpers/keys';

/**
 * Issue 3, "No secret in any record": every credential path of the app (agent:login, refresh, the
 * three handshake places, tickets, Bearer on the audit routes and the docs, revocation, metrics-like
 * keys in headers and query strings, a token hidden in an ignored `profile`) is driven with real
 * traffic only, each credential distinct and recognisable; then every stored record, the spill file,
 * an export and (SQLite) the raw database file are searched for each of them.
 */

const { agent, otherAgent, auditor, admin, platformAdmin } = fixtures;

/** A key the app does not trust: tokens signed with it are well-formed but invalid. */
const WRONG_SECRET = `wrong-hs256-secret-${randomBytes(16).toString('hex')}`;
const TICKET_ISSUER = 'signalgate:ws-ticket';
const TICKET_AUDIENCE = 'signalgate:ws';

interface Secret {
  label: string;
  /** Strings none of which may appear in any stored text. */
  needles: string[];
}

/** Every credential the test sends, with what to search for. */
class SecretBook {
  readonly all: Secret[] = [];

  /** A JWT: the whole token, its signature segment and its canary claim value. */
  jwt(label: string, token: string, canary?: string): string {
    const signature = token.slice(token.lastIndexOf('.') + 1);
    expect(signature.length).toBeGreaterThanOrEqual(20);
    this.all.push({ label, needles: [token, signature, ...(canary ? [canary] : [])] });
    return token;
  }

  /** Any other secret (garbage tokens, API keys, passwords): whole, and its distinctive start. */
  plain(label: string, value: string, ...more: string[]): string {
    const needles = [value, ...more];
    if (value.length > 64) needles.push(value.slice(0, 48));
    this.all.push({ label, needles });
    return value;
  }

  /** `label: needle…` for each needle found in `text`. */
  foundIn(text: string): string[] {
    return this.all.flatMap(({ label, needles }) =>
      needles.filter((needle) => text.includes(needle)).map((needle) => `${label}: ${needle.slice(0, 40)}…`),
    );
  }
}

const nowS = (): number => Math.floor(Date.now() / 1000);
const canaryOf = (label: string): string => `canary-${label}-${randomBytes(6).toString('hex')}`;

interface HttpResult {
  status: number;
  text: string;
}

function credentialsSuite(open: () => Promise<OpenedDatabase>): void {
  let opened: OpenedDatabase;
  let testApp: TestApp;
  const secrets = new SecretBook();

  beforeAll(async () => {
    // The helper's own DatabaseService logs which database it opened.
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    opened = await open();
    // startApp opens the database itself; this handle only created it.
    await opened.database.onApplicationShutdown();
    testApp = await startApp({
      ...opened.env,
      PUBLIC_DOCS_ENABLED: 'false',
      RATE_LIMIT_HTTP_MAX: '10000',
    });
    // The keys themselves: the app holds them, no record may.
    secrets.plain('AUTH_JWT_SECRET', TEST_HS256_SECRET);
    secrets.plain('TICKET_SECRET', testApp.config.ticketSecret);
    secrets.plain('wrong HS256 secret', WRONG_SECRET);
  });

  afterAll(async () => {
    await testApp?.close();
    await opened?.dispose();
    jest.restoreAllMocks();
  });

  /** A token signed with the app's key (or `secret`), carrying a canary claim; registered as a secret. */
  const token = async (
    label: string,
    sub: string,
    claims: Record<string, unknown> = {},
    secret?: string,
  ): Promise<string> => {
    const canary = canaryOf(label);
    return secrets.jwt(label, await mintHs256({ sub, canary, ...claims }, { secret }), canary);
  };
  const valid = (label: string, sub: string): Promise<string> => token(label, sub);
  const invalid = (label: string, sub: string): Promise<string> => token(label, sub, {}, WRONG_SECRET);
  const expired = (label: string, sub: string): Promise<string> =>
    token(label, sub, { iat: nowS() - 7200, exp: nowS() - 3600 });
  /** Not a JWT and over the 8 KiB limit. */
  const oversized = (label: string): string =>
    secrets.plain(label, `garbage-${label}-${randomBytes(8).toString('hex')}-${'Z'.repeat(9000)}`);

  const http = async (
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> => {
    const res = await fetch(`${testApp.url}${path}`, { method, headers });
    return { status: res.status, text: await res.text() };
  };
  const bearer = (credential: string): Record<string, string> => ({ Authorization: `Bearer ${credential}` });

  /** Connects with handshake `options`; expects a refusal with `code`. */
  const expectHandshakeRefused = async (
    options: Parameters<TestApp['connect']>[0],
    code: string,
  ): Promise<void> => {
    const socket = testApp.connect(options);
    await expect(connected(socket)).rejects.toMatchObject({ data: { code } });
    socket.disconnect();
  };

  /** Connects with handshake `options`, then logs in on the handshake identity (no token). */
  const handshakeLogin = async (options: Parameters<TestApp['connect']>[0]): Promise<void> => {
    const socket = testApp.connect(options);
    await connected(socket);
    const success = next<{ agentState: AgentState }>(socket, 'login:success');
    socket.emit('agent:login', { agentId: agent.agentId });
    expect((await success).agentState.agentId).toBe(agent.agentId);
    socket.disconnect();
  };

  /** Issues a ticket over HTTP for `credential`; registers it as a secret. */
  const issueTicket = async (label: string, credential: string): Promise<string> => {
    const res = await http('POST', '/auth/ws-ticket', bearer(credential));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { ticket: string; expiresIn: number };
    expect(body.expiresIn).toBe(60);
    return secrets.jwt(label, body.ticket);
  };

  it('agent:login: valid, wrong-secret, expired and oversized tokens; a refresh; a token inside profile', async () => {
    const first = await login(testApp, await valid('login-valid', agent.userId));

    await expectLoginRefused(
      testApp,
      { agentId: agent.agentId, token: await invalid('login-invalid', agent.userId) },
      'AUTH_INVALID_TOKEN',
    );
    await expectLoginRefused(
      testApp,
      { agentId: agent.agentId, token: await expired('login-expired', agent.userId) },
      'AUTH_EXPIRED',
    );
    await expectLoginRefused(
      testApp,
      { agentId: agent.agentId, token: oversized('login-oversized') },
      'AUTH_INVALID_TOKEN',
    );
    // A token for another agent than the one claimed.
    await expectLoginRefused(
      testApp,
      { agentId: agent.agentId, token: await valid('login-mismatch', otherAgent.userId) },
      'AUTH_AGENT_MISMATCH',
    );

    // Refresh on the authenticated socket: a second login:success, recorded as auth.refresh.
    const refreshed = next<{ agentState: AgentState }>(first.socket, 'login:success');
    first.socket.emit('agent:login', {
      agentId: agent.agentId,
      token: await valid('refresh-valid', agent.userId),
    });
    expect((await refreshed).agentState.agentId).toBe(agent.agentId);
    // A refused refresh ends the session; the socket stays connected, anonymous.
    const refusal = next<ErrorPayload>(first.socket, 'error');
    first.socket.emit('agent:login', {
      agentId: agent.agentId,
      token: await invalid('refresh-invalid', agent.userId),
    });
    expect((await refusal).code).toBe('AUTH_INVALID_TOKEN');
    expect(await ask(first.socket, 'agent:back')).toMatchObject({ error: { code: 'AUTH_REQUIRED' } });
    first.socket.disconnect();

    // `profile` is accepted and ignored (PROTOCOL §2.1): a credential hidden in it must not be kept.
    const withProfile = testApp.connect();
    await connected(withProfile);
    const success = next<{ agentState: AgentState }>(withProfile, 'login:success');
    withProfile.emit('agent:login', {
      agentId: agent.agentId,
      token: await valid('login-profile-outer', agent.userId),
      profile: {
        displayName: 'Profile With Token',
        token: await valid('profile-token', agent.userId),
        apiKey: secrets.plain('profile-apiKey', `profile-api-key-${randomBytes(12).toString('hex')}`),
      },
    });
    expect((await success).agentState.agentId).toBe(agent.agentId);
    withProfile.disconnect();
    // The same, on a login that fails (its failure record carries details).
    await expectLoginRefused(
      testApp,
      {
        agentId: agent.agentId,
        token: await invalid('login-profile-outer-invalid', agent.userId),
        profile: { token: await valid('profile-token-on-failure', agent.userId) },
      },
      'AUTH_INVALID_TOKEN',
    );
    // An unknown top-level credential field is refused as INVALID_PAYLOAD (the socket stays).
    const extra = testApp.connect();
    await connected(extra);
    const invalidPayload = next<ErrorPayload>(extra, 'error');
    extra.emit('agent:login', {
      agentId: agent.agentId,
      token: await valid('login-extra-field-outer', agent.userId),
      password: secrets.plain('login-password-field', `password-${randomBytes(12).toString('hex')}`),
    });
    expect(await invalidPayload).toMatchObject({ code: 'INVALID_PAYLOAD', event: 'agent:login' });
    extra.disconnect();
  });

  it('handshake: valid, wrong-secret, expired and oversized tokens in each of the three places', async () => {
    const places: [string, (credential: string) => Parameters<TestApp['connect']>[0]][] = [
      ['header', (credential) => ({ extraHeaders: { Authorization: `Bearer ${credential}` } })],
      ['query', (credential) => ({ query: { token: credential } })],
      ['auth', (credential) => ({ auth: { token: credential } })],
    ];
    for (const [place, options] of places) {
      await handshakeLogin(options(await valid(`handshake-${place}-valid`, agent.userId)));
      await expectHandshakeRefused(
        options(await invalid(`handshake-${place}-invalid`, agent.userId)),
        'AUTH_INVALID_TOKEN',
      );
      await expectHandshakeRefused(
        options(await expired(`handshake-${place}-expired`, agent.userId)),
        'AUTH_EXPIRED',
      );
      await expectHandshakeRefused(options(oversized(`handshake-${place}-oversized`)), 'AUTH_INVALID_TOKEN');
    }
    // A raw (non-Bearer) Authorization header is taken whole as the token.
    await expectHandshakeRefused(
      {
        extraHeaders: {
          Authorization: secrets.plain('handshake-raw-header', `raw-${randomBytes(16).toString('hex')}`),
        },
      },
      'AUTH_INVALID_TOKEN',
    );
  });

  it('tickets: issued with a Bearer token, redeemed at agent:login and at the handshake, reuse refused', async () => {
    const refused = await http(
      'POST',
      '/auth/ws-ticket',
      bearer(await invalid('ticket-bearer-invalid', agent.userId)),
    );
    expect(refused.status).toBe(401);
    const expiredBearer = await http(
      'POST',
      '/auth/ws-ticket',
      bearer(await expired('ticket-bearer-expired', agent.userId)),
    );
    expect(expiredBearer.status).toBe(401);

    const exchange = await valid('ticket-bearer-valid', agent.userId);
    // Redeemed at agent:login, then reused there.
    const atLogin = await issueTicket('ticket-login', exchange);
    (await login(testApp, atLogin)).socket.disconnect();
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: atLogin }, 'AUTH_INVALID_TOKEN');
    // Redeemed at the handshake (?token=, its intended place), then reused at the handshake.
    const atQuery = await issueTicket('ticket-handshake-query', exchange);
    await handshakeLogin({ query: { token: atQuery } });
    await expectHandshakeRefused({ auth: { token: atQuery } }, 'AUTH_INVALID_TOKEN');
    // Redeemed at the handshake (header), then reused at agent:login.
    const atHeader = await issueTicket('ticket-handshake-header', exchange);
    await handshakeLogin({ extraHeaders: { Authorization: `Bearer ${atHeader}` } });
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: atHeader }, 'AUTH_INVALID_TOKEN');
    // Redeemed as a Bearer token on an admin route (an agent: 403), then reused there (401).
    const asBearer = await issueTicket('ticket-as-bearer', exchange);
    expect((await http('GET', '/admin/audit/events', bearer(asBearer))).status).toBe(403);
    expect((await http('GET', '/admin/audit/events', bearer(asBearer))).status).toBe(401);
    // A forged ticket (right issuer and audience, wrong key).
    const forged = secrets.jwt(
      'ticket-forged',
      await mintHs256(
        {
          sub: agent.userId,
          iss: TICKET_ISSUER,
          aud: TICKET_AUDIENCE,
          sexp: nowS() + 3600,
          siat: nowS(),
          jti: randomUUID(),
        },
        { secret: WRONG_SECRET },
      ),
    );
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: forged }, 'AUTH_INVALID_TOKEN');
    await expectHandshakeRefused({ query: { token: forged } }, 'AUTH_INVALID_TOKEN');
  });

  it('Bearer on the audit routes and the docs: valid, wrong-secret, expired, agent role, oversized', async () => {
    const routes = ['/admin/audit/events', '/admin/audit/export', '/docs', '/docs-json'];
    for (const route of routes) {
      const name = route.replace(/\W+/g, '_');
      const ok = await http('GET', route, bearer(await valid(`${name}-auditor`, auditor.userId)));
      expect({ route, status: ok.status }).toEqual({ route, status: 200 });
      const bad = await http('GET', route, bearer(await invalid(`${name}-invalid`, auditor.userId)));
      expect({ route, status: bad.status }).toEqual({ route, status: 401 });
      const old = await http('GET', route, bearer(await expired(`${name}-expired`, auditor.userId)));
      expect({ route, status: old.status, code: (JSON.parse(old.text) as { code: string }).code }).toEqual({
        route,
        status: 401,
        code: 'AUTH_EXPIRED',
      });
      const weak = await http('GET', route, bearer(await valid(`${name}-agent`, agent.userId)));
      expect({ route, status: weak.status }).toEqual({ route, status: 403 });
      const huge = await http('GET', route, bearer(oversized(`${name}-oversized`)));
      expect({ route, status: huge.status }).toEqual({ route, status: 401 });
    }

    // The other audit reads, each with its own valid token.
    // Written now rather than at the next flush tick, so that the list below has a record to fetch.
    await testApp.app.get(AuditRecorder).flush();
    const summary = await http(
      'GET',
      '/admin/audit/summary',
      bearer(await valid('summary-admin', admin.userId)),
    );
    expect(summary.status).toBe(200);
    const page = await http(
      'GET',
      '/admin/audit/events?limit=1',
      bearer(await valid('list-admin', admin.userId)),
    );
    expect(page.status).toBe(200);
    const [first] = (JSON.parse(page.text) as { items: { id: string }[] }).items;
    expect(first).toBeDefined();
    const one = await http(
      'GET',
      `/admin/audit/events/${first.id}`,
      bearer(await valid('get-admin', admin.userId)),
    );
    expect(one.status).toBe(200);
    const verify = await http(
      'GET',
      '/admin/audit/verify',
      bearer(await valid('verify-platform', platformAdmin.userId)),
    );
    expect(verify.status).toBe(200);
  });

  it('revocation: the call itself, refused callers, and the revoked token afterwards', async () => {
    const path = `/admin/agents/${otherAgent.agentId}/revoke`;
    const beforeRevocation = await valid('revoked-agent-token', otherAgent.userId);
    const { socket } = await login(
      testApp,
      await valid('revoked-agent-session', otherAgent.userId),
      otherAgent.agentId,
    );
    const revokedNotice = next(socket, 'session:revoked');

    expect((await http('POST', path, bearer(await valid('revoke-by-agent', agent.userId)))).status).toBe(403);
    expect((await http('POST', path, bearer(await invalid('revoke-invalid', admin.userId)))).status).toBe(
      401,
    );
    expect((await http('POST', path, bearer(await expired('revoke-expired', admin.userId)))).status).toBe(
      401,
    );
    const revoked = await http('POST', path, bearer(await valid('revoke-admin', admin.userId)));
    expect(revoked.status).toBe(200);
    await revokedNotice;

    await expectLoginRefused(
      testApp,
      { agentId: otherAgent.agentId, token: beforeRevocation },
      'AUTH_REVOKED',
    );
    await expectHandshakeRefused({ auth: { token: beforeRevocation } }, 'AUTH_REVOKED');
  });

  it('metrics-like keys in headers, ?key= and basic auth, on routes with and without authentication', async () => {
    const key = (label: string): string =>
      secrets.plain(label, `${label}-${randomBytes(16).toString('hex')}`);

    const health = await http('GET', `/health?key=${key('health-query-key')}`, {
      'x-metrics-api-key': key('health-header-key'),
    });
    expect(health.status).toBe(200);

    const anonymous = await http('GET', `/admin/audit/events?key=${key('events-query-key-anon')}`, {
      'x-metrics-api-key': key('events-header-key-anon'),
    });
    expect(anonymous.status).toBe(401);

    // Authenticated, with an unknown query parameter: 400 naming it.
    const withKey = await http('GET', `/admin/audit/events?key=${key('events-query-key-auditor')}`, {
      ...bearer(await valid('events-with-key-auditor', auditor.userId)),
      'x-metrics-api-key': key('events-header-key-auditor'),
    });
    expect(withKey.status).toBe(400);

    const password = key('basic-password');
    const basic = Buffer.from(`scraper:${password}`).toString('base64');
    secrets.plain('basic-credentials', basic);
    const basicAuth = await http('GET', '/admin/audit/events', { Authorization: `Basic ${basic}` });
    expect(basicAuth.status).toBe(401);

    const docs = await http('GET', `/docs?key=${key('docs-query-key')}&token=${key('docs-query-token')}`, {
      'x-metrics-api-key': key('docs-header-key'),
    });
    expect(docs.status).toBe(401);

    // No metrics route yet: whatever answers, nothing of the key may be kept.
    const metrics = await http('GET', `/metrics?key=${key('metrics-query-key')}`, {
      'x-metrics-api-key': key('metrics-header-key'),
      ...bearer(key('metrics-bearer-key')),
    });
    expect([200, 401, 403, 404]).toContain(metrics.status);

    const ticket = await http('POST', `/auth/ws-ticket?token=${key('ticket-query-token')}`, {
      'x-metrics-api-key': key('ticket-header-key'),
    });
    expect(ticket.status).toBe(401);
  });

  it('records every path, and no record (store, spill file, export, database file) holds a secret', async () => {
    const recorder = testApp.app.get(AuditRecorder);
    await recorder.flush();

    // One more read, through the admins' own door: the export of everything.
    const exportToken = await valid('final-export-platform', platformAdmin.userId);
    const ndjson = await http('GET', '/admin/audit/export', bearer(exportToken));
    expect(ndjson.status).toBe(200);
    const csv = await http('GET', '/admin/audit/export?format=csv', bearer(exportToken));
    expect(csv.status).toBe(200);
    await recorder.flush();

    const records: AuditRecord[] = await testApp.app.get(AuditStore).list({}, 100_000);
    expect(records.length).toBeGreaterThanOrEqual(testApp.events.length);

    // The record types each path must have produced, so that an empty store cannot pass.
    const expected: Partial<AuditRecord>[] = [
      { type: 'auth.login', outcome: 'success', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'bad_signature', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'expired', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'oversized', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'agent_mismatch', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'ticket_reused', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'invalid_ticket', target: 'agent:login' },
      { type: 'auth.login', outcome: 'failure', reason: 'session_revoked', target: 'agent:login' },
      { type: 'auth.refresh', outcome: 'success', target: 'agent:login' },
      { type: 'auth.refresh', outcome: 'failure', reason: 'bad_signature', target: 'agent:login' },
      { type: 'auth.handshake', outcome: 'success', target: 'connection' },
      { type: 'auth.handshake', outcome: 'failure', reason: 'bad_signature', target: 'connection' },
      { type: 'auth.handshake', outcome: 'failure', reason: 'expired', target: 'connection' },
      { type: 'auth.handshake', outcome: 'failure', reason: 'oversized', target: 'connection' },
      { type: 'auth.handshake', outcome: 'failure', reason: 'ticket_reused', target: 'connection' },
      { type: 'auth.handshake', outcome: 'failure', reason: 'session_revoked', target: 'connection' },
      { type: 'auth.ticket_issued', outcome: 'success', target: 'POST /auth/ws-ticket' },
      { type: 'auth.required', outcome: 'failure', target: 'POST /auth/ws-ticket' },
      { type: 'auth.expired', outcome: 'failure', target: 'POST /auth/ws-ticket' },
      { type: 'admin.audit_read', outcome: 'success', target: 'GET /admin/audit/events' },
      { type: 'admin.audit_read', outcome: 'success', target: 'GET /admin/audit/events/:id' },
      { type: 'admin.audit_read', outcome: 'success', target: 'GET /admin/audit/summary' },
      { type: 'admin.audit_read', outcome: 'success', target: 'GET /admin/audit/verify' },
      { type: 'admin.audit_export', outcome: 'success', target: 'GET /admin/audit/export' },
      { type: 'auth.session_revoked', outcome: 'success', target: 'POST /admin/agents/:agentId/revoke' },
      { type: 'auth.forbidden', outcome: 'failure', target: 'POST /admin/agents/:agentId/revoke' },
      { type: 'auth.required', outcome: 'failure', target: 'POST /admin/agents/:agentId/revoke' },
      { type: 'auth.expired', outcome: 'failure', target: 'POST /admin/agents/:agentId/revoke' },
    ];
    for (const route of ['/admin/audit/events', '/admin/audit/export', '/docs', '/docs-json']) {
      const target = `GET ${route}`;
      expected.push(
        { type: 'auth.required', outcome: 'failure', reason: 'bad_signature', target },
        { type: 'auth.required', outcome: 'failure', reason: 'oversized', target },
        { type: 'auth.expired', outcome: 'failure', reason: 'expired', target },
        { type: 'auth.forbidden', outcome: 'failure', reason: 'insufficient_role', target },
      );
    }
    expected.push(
      {
        type: 'auth.required',
        outcome: 'failure',
        reason: 'missing_token',
        target: 'GET /admin/audit/events',
      },
      { type: 'auth.required', outcome: 'failure', reason: 'missing_token', target: 'GET /docs' },
    );
    const summarise = (record: AuditRecord): Partial<AuditRecord> => ({
      type: record.type,
      outcome: record.outcome,
      reason: record.reason,
      target: record.target,
    });
    const missing = expected.filter(
      (wanted) =>
        !records.some((record) =>
          Object.entries(wanted).every(
            ([field, value]) => summarise(record)[field as keyof AuditRecord] === value,
          ),
        ),
    );
    expect(missing).toEqual([]);
    // No target carries a query string (where `?key=` and `?token=` travel).
    expect(records.filter((record) => record.target?.includes('?'))).toEqual([]);

    // The search: each record on its own, so that a leak names its record.
    const leaks = records.flatMap((record) =>
      secrets
        .foundIn(JSON.stringify(record))
        .map((found) => `${record.type} ${record.outcome} ${record.target ?? ''} (${record.id}): ${found}`),
    );
    const spillPath = testApp.config.audit.spillPath;
    if (existsSync(spillPath)) {
      leaks.push(...secrets.foundIn(readFileSync(spillPath, 'utf8')).map((found) => `spill file: ${found}`));
    }
    leaks.push(...secrets.foundIn(ndjson.text).map((found) => `NDJSON export: ${found}`));
    leaks.push(...secrets.foundIn(csv.text).map((found) => `CSV export: ${found}`));
    const sqlitePath = opened.env.SQLITE_PATH;
    if (sqlitePath) {
      for (const file of [sqlitePath, `${sqlitePath}-wal`]) {
        if (existsSync(file)) {
          leaks.push(...secrets.foundIn(readFileSync(file, 'latin1')).map((found) => `${file}: ${found}`));
        }
      }
    }
    expect(leaks).toEqual([]);

    // Sanity: the needles are real (the export does contain what the store holds) and fingerprints pass.
    expect(ndjson.text).toContain(records[records.length - 1].id);
    const fingerprints = JSON.stringify(records).match(/sha256:[0-9a-f]+/g) ?? [];
    for (const fingerprint of fingerprints) expect(fingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
  });
}

onEachDatabase('No secret in any audit record', credentialsSuite);
