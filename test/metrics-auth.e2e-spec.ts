import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request, { Response } from 'supertest';
import { AuditRecorder } from '../src/audit/audit-recorder.service';
import { AuditStore } from '../src/audit/audit.store';
import { fingerprint } from '../src/common/security/fingerprint';
import { SecurityEvent } from '../src/common/security/security-event';
import { startApp, TestApp } from './helpers/app';
import { TEST_HS256_SECRET } from './helpers/keys';
import { spawnServer } from './helpers/process';

/*
 * PROTOCOL §4 "Metrics authentication", through the real GET /metrics, in production and in
 * development boots: every key source, rotation, the internal header from inside and outside
 * METRICS_INTERNAL_CIDRS, the boot warning counted once, the failure cool-down, the route's own
 * budget, and what every decision publishes (never a key).
 */

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const AUTH_REQUIRED = { statusCode: 401, error: 'API key required', code: 'AUTH_REQUIRED' };
const INVALID_KEY = { statusCode: 403, error: 'Invalid API key', code: 'FORBIDDEN' };

// Distinctive values, so that finding one anywhere it must not be is unambiguous.
const KEY_A = 'rotation-key-alpha-5d1e8c0f27';
const KEY_B = 'rotation-key-bravo-93b6a4e7c2';
const LEGACY_KEY = 'legacy-single-key-0af4c9e2d8';
const WRONG_KEY = 'wrong-guessed-key-7c2d9b1a4e';
const QUERY_ONLY_WRONG = 'query-wrong-key-e4b81f0c6a';
const EVERY_SECRET = [KEY_A, KEY_B, LEGACY_KEY, WRONG_KEY, QUERY_ONLY_WRONG];

const PUBLIC_IP = '203.0.113.9';
const PRIVATE_IP = '10.1.2.3';

const PRODUCTION = { NODE_ENV: 'production', CORS_ORIGINS: 'https://dashboard.example.com' };
/** Boots whose tests are not about the cool-down or the budget turn both out of the way. */
const GENEROUS = { METRICS_FAILURE_LIMIT: '10000', RATE_LIMIT_METRICS_MAX: '1000000' };

type Http = ReturnType<typeof request>;

interface Scrape {
  res: Response;
  /** Every event the request published. */
  published: SecurityEvent[];
  /** Its `metrics.access` decisions: exactly one is expected per request that reached the guard. */
  access: SecurityEvent[];
}

async function scrape(testApp: TestApp, build: (http: Http) => PromiseLike<Response>): Promise<Scrape> {
  const before = testApp.events.length;
  const res = await build(request(testApp.url));
  const published = testApp.events.slice(before);
  return { res, published, access: published.filter((event) => event.type === 'metrics.access') };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Each way of presenting a key (PROTOCOL §4), as a request builder. */
const SOURCES: [source: string, present: (http: Http, key: string) => request.Test][] = [
  ['header', (http, key) => http.get('/metrics').set('x-metrics-api-key', key)],
  ['bearer', (http, key) => http.get('/metrics').set('Authorization', `Bearer ${key}`)],
  ['basic', (http, key) => http.get('/metrics').set('Authorization', basic('prometheus', key))],
  ['query', (http, key) => http.get('/metrics').query({ key })],
];

function expectAllowed(result: Scrape, reason: string, details: Record<string, unknown> = {}): void {
  expect(result.res.status).toBe(200);
  expect(result.res.headers['content-type']).toBe(PROMETHEUS_TEXT);
  expect(result.res.text).toContain('# TYPE signalgate_');
  expect(result.access).toEqual([
    expect.objectContaining({
      outcome: 'success',
      reason,
      source: expect.objectContaining({ transport: 'http' }),
      target: 'GET /metrics',
      details: expect.objectContaining({ guard: 'MetricsApiKeyGuard', ...details }),
    }),
  ]);
}

function expectRefused(result: Scrape, status: 401 | 403, details: Record<string, unknown> = {}): void {
  expect(result.res.status).toBe(status);
  expect(result.res.body).toEqual(status === 401 ? AUTH_REQUIRED : INVALID_KEY);
  if (status === 401) expect(result.res.headers['www-authenticate']).toBe('Bearer');
  expect(result.access).toEqual([
    expect.objectContaining({
      outcome: 'failure',
      reason: status === 401 ? 'missing_key' : 'invalid_key',
      code: status === 401 ? 'AUTH_REQUIRED' : 'FORBIDDEN',
      target: 'GET /metrics',
      details: expect.objectContaining({ guard: 'MetricsApiKeyGuard', ...details }),
    }),
  ]);
}

/** The events, and the audit records made from them, never hold a key: only its fingerprint. */
async function expectNoSecretRecorded(testApp: TestApp, secrets: readonly string[]): Promise<void> {
  await testApp.app.get(AuditRecorder).flush();
  const records = await testApp.app
    .get(AuditStore)
    .list({ types: ['metrics.access', 'metrics.internal_spoof'] }, 10_000);
  expect(records.length).toBeGreaterThan(0);
  const recorded = JSON.stringify(testApp.events) + JSON.stringify(records);
  for (const secret of secrets) {
    expect(recorded).not.toContain(secret);
    expect(recorded).not.toContain(Buffer.from(`prometheus:${secret}`).toString('base64'));
    expect(recorded).not.toContain(encodeURIComponent(secret));
  }
}

describe.each([
  ['production', { ...PRODUCTION, TRUST_PROXY: '127.0.0.1' }],
  ['development', { NODE_ENV: 'development', TRUST_PROXY: '1' }],
])('GET /metrics in a %s boot with METRICS_API_KEYS (two keys) and METRICS_API_KEY', (mode, env) => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({
      ...env,
      ...GENEROUS,
      METRICS_API_KEYS: `${KEY_A}, ${KEY_B}`,
      METRICS_API_KEY: LEGACY_KEY,
    });
    expect(testApp.config.isProduction).toBe(mode === 'production');
  });
  afterAll(() => testApp.close());

  it.each(SOURCES)('accepts the key from %s, recording only its fingerprint', async (source, present) => {
    const result = await scrape(testApp, (http) => present(http, KEY_A));
    expectAllowed(result, 'api_key', { keySource: source, keyFingerprint: fingerprint(KEY_A) });
    expect(result.access[0].method).toBe('api_key');
    expect(result.access[0].details!.keyFingerprint).toMatch(/^[0-9a-f]{12}$/);
  });

  it.each(SOURCES)('refuses a wrong key from %s with 403', async (source, present) => {
    const result = await scrape(testApp, (http) => present(http, WRONG_KEY));
    expectRefused(result, 403, { keySource: source, keyFingerprint: fingerprint(WRONG_KEY) });
  });

  it('takes the basic-auth password whatever the user name, including none', async () => {
    for (const user of ['', 'x', 'some.scraper@example.com']) {
      const result = await scrape(testApp, (http) =>
        http.get('/metrics').set('Authorization', basic(user, KEY_B)),
      );
      expectAllowed(result, 'api_key', { keySource: 'basic', keyFingerprint: fingerprint(KEY_B) });
    }
  });

  it('every key of the rotation works, and the legacy METRICS_API_KEY too', async () => {
    for (const key of [KEY_A, KEY_B, LEGACY_KEY]) {
      const result = await scrape(testApp, (http) => http.get('/metrics').set('x-metrics-api-key', key));
      expectAllowed(result, 'api_key', { keyFingerprint: fingerprint(key) });
    }
  });

  it('refuses what is only close to a key: a prefix, a suffix added, another case, the keys joined', async () => {
    for (const near of [
      KEY_A.slice(0, -1),
      `${KEY_A}x`,
      `x${KEY_A}`,
      KEY_A.toUpperCase(),
      `${KEY_A},${KEY_B}`,
      `${KEY_A} `.repeat(2).trim(),
    ]) {
      const result = await scrape(testApp, (http) => http.get('/metrics').set('x-metrics-api-key', near));
      expectRefused(result, 403);
    }
  });

  it('no key at all: 401 "API key required" with WWW-Authenticate', async () => {
    expectRefused(await scrape(testApp, (http) => http.get('/metrics')), 401, { keysConfigured: true });
  });

  it('the header is preferred when several sources are sent', async () => {
    // A wrong header decides, whatever else is right.
    expectRefused(
      await scrape(testApp, (http) =>
        http.get('/metrics').set('x-metrics-api-key', WRONG_KEY).query({ key: KEY_A }),
      ),
      403,
      { keySource: 'header' },
    );
    expectRefused(
      await scrape(testApp, (http) =>
        http.get('/metrics').set('x-metrics-api-key', WRONG_KEY).set('Authorization', `Bearer ${KEY_A}`),
      ),
      403,
      { keySource: 'header' },
    );
    expectRefused(
      await scrape(testApp, (http) =>
        http.get('/metrics').set('Authorization', `Bearer ${WRONG_KEY}`).query({ key: KEY_A }),
      ),
      403,
      { keySource: 'bearer' },
    );
    // And a right header decides over a wrong query.
    expectAllowed(
      await scrape(testApp, (http) =>
        http.get('/metrics').set('x-metrics-api-key', KEY_A).query({ key: QUERY_ONLY_WRONG }),
      ),
      'api_key',
      { keySource: 'header', keyFingerprint: fingerprint(KEY_A) },
    );
  });

  it('x-internal-request: true from loopback (the test client) is allowed without a key', async () => {
    const result = await scrape(testApp, (http) => http.get('/metrics').set('x-internal-request', 'true'));
    expectAllowed(result, 'internal_request');
    expect(result.access[0].method).toBe('internal');
    expect(result.access[0].source.ip).toBe('127.0.0.1');
    // A key, when presented, decides before the header: a wrong one is refused even from inside.
    expectRefused(
      await scrape(testApp, (http) =>
        http.get('/metrics').set('x-internal-request', 'true').set('x-metrics-api-key', WRONG_KEY),
      ),
      403,
    );
  });

  it('a forged X-Forwarded-For from a public address: the internal header is ignored and recorded as a spoof', async () => {
    const missing = await scrape(testApp, (http) =>
      http.get('/metrics').set('X-Forwarded-For', PUBLIC_IP).set('x-internal-request', 'true'),
    );
    expectRefused(missing, 401);
    expect(missing.access[0].source.ip).toBe(PUBLIC_IP);
    expect(missing.published.filter((event) => event.type === 'metrics.internal_spoof')).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: 'not_internal_network',
        source: expect.objectContaining({ transport: 'http', ip: PUBLIC_IP }),
        target: 'GET /metrics',
      }),
    ]);

    // The key decides as it would without the header.
    expectRefused(
      await scrape(testApp, (http) =>
        http
          .get('/metrics')
          .set('X-Forwarded-For', PUBLIC_IP)
          .set('x-internal-request', 'true')
          .set('x-metrics-api-key', WRONG_KEY),
      ),
      403,
    );
    expectAllowed(
      await scrape(testApp, (http) =>
        http
          .get('/metrics')
          .set('X-Forwarded-For', PUBLIC_IP)
          .set('x-internal-request', 'true')
          .set('x-metrics-api-key', KEY_A),
      ),
      'api_key',
    );

    // An internal address written in front of the one the trusted proxy saw changes nothing.
    const chained = await scrape(testApp, (http) =>
      http
        .get('/metrics')
        .set('X-Forwarded-For', `${PRIVATE_IP}, ${PUBLIC_IP}`)
        .set('x-internal-request', 'true'),
    );
    expectRefused(chained, 401);
    expect(chained.published.map((event) => event.type)).toContain('metrics.internal_spoof');
  });

  it('X-Forwarded-For from an internal address (through the trusted proxy) is allowed', async () => {
    const result = await scrape(testApp, (http) =>
      http.get('/metrics').set('X-Forwarded-For', PRIVATE_IP).set('x-internal-request', 'true'),
    );
    expectAllowed(result, 'internal_request');
    expect(result.access[0].source.ip).toBe(PRIVATE_IP);
    expect(result.published.map((event) => event.type)).not.toContain('metrics.internal_spoof');
  });

  it('only the exact header value "true" claims an internal request', async () => {
    for (const value of ['1', 'yes', 'false']) {
      expectRefused(
        await scrape(testApp, (http) => http.get('/metrics').set('x-internal-request', value)),
        401,
      );
    }
  });

  it('no key, right or wrong, from any source, appears in any event or audit record', async () => {
    for (const [, present] of SOURCES) {
      for (const key of EVERY_SECRET) await present(request(testApp.url), key);
    }
    await request(testApp.url).get('/metrics').query({ key: QUERY_ONLY_WRONG });
    const fingerprints = testApp.events
      .filter((event) => event.type === 'metrics.access' && event.details?.keyFingerprint)
      .map((event) => event.details!.keyFingerprint);
    expect(fingerprints).toEqual(expect.arrayContaining(EVERY_SECRET.map(fingerprint)));
    await expectNoSecretRecorded(testApp, EVERY_SECRET);
    // Nor in the exposition itself.
    const text = (await request(testApp.url).get('/metrics').set('x-metrics-api-key', KEY_A)).text;
    for (const secret of EVERY_SECRET) expect(text).not.toContain(secret);
  });
});

describe('GET /metrics in a production boot without keys', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ ...PRODUCTION, ...GENEROUS, TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(() => testApp.close());

  it('lets internal requests only, and the METRICS_API_KEYS warning is counted once across 30 requests', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const missing = await scrape(testApp, (http) => http.get('/metrics'));
      expectRefused(missing, 401, { keysConfigured: false });
      statuses.push(missing.res.status);

      // With no keys configured a presented key is ignored (nothing to match it against): only
      // internal requests pass.
      const keyed = await scrape(testApp, (http) => http.get('/metrics').set('x-metrics-api-key', WRONG_KEY));
      expectRefused(keyed, 401, { keysConfigured: false, keySource: 'header' });
      statuses.push(keyed.res.status);

      const internal = await scrape(testApp, (http) =>
        http.get('/metrics').set('x-internal-request', 'true'),
      );
      expectAllowed(internal, 'internal_request');
      statuses.push(internal.res.status);
    }
    expect(statuses).toHaveLength(30);
    const warnings = testApp.events.filter((event) => event.type === 'config.warning');
    expect(warnings.filter((event) => event.reason === 'metrics_api_keys_missing')).toHaveLength(1);
    await testApp.app.get(AuditRecorder).flush();
    const records = await testApp.app.get(AuditStore).list({ types: ['config.warning'] }, 100);
    expect(records.filter((record) => record.reason === 'metrics_api_keys_missing')).toHaveLength(1);
  });

  it('the internal header from a public address is a spoof and gets 401', async () => {
    const result = await scrape(testApp, (http) =>
      http.get('/metrics').set('X-Forwarded-For', PUBLIC_IP).set('x-internal-request', 'true'),
    );
    expectRefused(result, 401);
    expect(result.published).toContainEqual(
      expect.objectContaining({
        type: 'metrics.internal_spoof',
        reason: 'not_internal_network',
        source: expect.objectContaining({ ip: PUBLIC_IP }),
      }),
    );
  });
});

describe('GET /metrics behind a proxy TRUST_PROXY does not trust', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    // TRUST_PROXY unset: a proxy on this host makes every request look like 127.0.0.1.
    testApp = await startApp({ ...PRODUCTION, ...GENEROUS, METRICS_API_KEYS: `${KEY_A}` });
  });
  afterAll(() => testApp.close());

  it('does not honour the internal header on a forwarded request: the loopback address is the proxy, not the client', async () => {
    const forwarded = await scrape(testApp, (http) =>
      http.get('/metrics').set('X-Forwarded-For', PUBLIC_IP).set('x-internal-request', 'true'),
    );
    expectRefused(forwarded, 401, { keysConfigured: true });
    expect(forwarded.published).toContainEqual(
      expect.objectContaining({ type: 'metrics.internal_spoof', reason: 'untrusted_forwarding' }),
    );
    const viaForwarded = await scrape(testApp, (http) =>
      http.get('/metrics').set('Forwarded', `for=${PUBLIC_IP}`).set('x-internal-request', 'true'),
    );
    expectRefused(viaForwarded, 401, { keysConfigured: true });
    // The same header straight from loopback, with nothing forwarded, is internal.
    expectAllowed(
      await scrape(testApp, (http) => http.get('/metrics').set('x-internal-request', 'true')),
      'internal_request',
    );
  });
});

describe('GET /metrics in a development boot without keys', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ NODE_ENV: 'development', ...GENEROUS, TRUST_PROXY: '1' });
  });
  afterAll(() => testApp.close());

  it('is open (development_open), and no METRICS_API_KEYS warning is raised', async () => {
    for (let i = 0; i < 3; i += 1) {
      const result = await scrape(testApp, (http) => http.get('/metrics'));
      expectAllowed(result, 'development_open');
      expect(result.access[0].method).toBe('none');
    }
    expect(testApp.events.filter((event) => event.reason === 'metrics_api_keys_missing')).toEqual([]);
  });

  it('a presented key changes nothing: development without keys is open (PROTOCOL §4.4)', async () => {
    expectAllowed(
      await scrape(testApp, (http) => http.get('/metrics').set('Authorization', `Bearer ${WRONG_KEY}`)),
      'development_open',
      { keysConfigured: false, keySource: 'bearer' },
    );
  });

  it('the internal header is still judged by address: from inside internal_request, from outside a spoof', async () => {
    expectAllowed(
      await scrape(testApp, (http) => http.get('/metrics').set('x-internal-request', 'true')),
      'internal_request',
    );
    const spoofed = await scrape(testApp, (http) =>
      http.get('/metrics').set('X-Forwarded-For', PUBLIC_IP).set('x-internal-request', 'true'),
    );
    expectAllowed(spoofed, 'development_open');
    expect(spoofed.published.map((event) => event.type)).toContain('metrics.internal_spoof');
  });
});

describe('GET /metrics: repeated failures earn the address a cool-down', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({
      ...PRODUCTION,
      TRUST_PROXY: '127.0.0.1',
      METRICS_API_KEYS: KEY_A,
      METRICS_FAILURE_LIMIT: '3',
      METRICS_FAILURE_COOLDOWN_MS: '1000',
    });
  });
  afterAll(() => testApp.close());

  const withKey = (key: string) => (http: Http) => http.get('/metrics').set('x-metrics-api-key', key);

  it('more than METRICS_FAILURE_LIMIT wrong keys → 429 RATE_LIMITED with Retry-After, even for the right key, until it ends', async () => {
    // Requests without a key do not count: a browser or a probe behind the scraper's NAT must not
    // lock the scraper out.
    for (let i = 0; i < 5; i += 1) expectRefused(await scrape(testApp, (http) => http.get('/metrics')), 401);
    // Three wrong keys are within the limit: the right key still works.
    expectRefused(await scrape(testApp, withKey(WRONG_KEY)), 403);
    expectRefused(await scrape(testApp, withKey(WRONG_KEY)), 403);
    expectRefused(await scrape(testApp, withKey(WRONG_KEY)), 403);
    expectAllowed(await scrape(testApp, withKey(KEY_A)), 'api_key');
    // The fourth is answered as usual, and starts the cool-down.
    expectRefused(await scrape(testApp, withKey(WRONG_KEY)), 403);

    const cooling = await scrape(testApp, withKey(KEY_A));
    expect(cooling.res.status).toBe(429);
    expect(cooling.res.body).toEqual({ statusCode: 429, error: expect.any(String), code: 'RATE_LIMITED' });
    expect(cooling.res.headers['retry-after']).toBe('1');
    expect(cooling.access).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: 'cooling_down', code: 'RATE_LIMITED' }),
    ]);
    // Every way in is closed while it lasts, the internal header included.
    expect((await request(testApp.url).get('/metrics').set('x-internal-request', 'true')).status).toBe(429);

    // It is per address: another client (behind the trusted proxy) is not affected.
    expectAllowed(
      await scrape(testApp, (http) => withKey(KEY_A)(http).set('X-Forwarded-For', '198.51.100.7')),
      'api_key',
    );

    // METRICS_FAILURE_COOLDOWN_MS later the right key works again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectAllowed(await scrape(testApp, withKey(KEY_A)), 'api_key');
  });
});

describe('GET /metrics has its own rate-limit budget (RATE_LIMIT_METRICS_MAX)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({
      ...PRODUCTION,
      TRUST_PROXY: '127.0.0.1',
      METRICS_API_KEYS: KEY_A,
      RATE_LIMIT_METRICS_MAX: '5',
      RATE_LIMIT_HTTP_MAX: '3',
    });
  });
  afterAll(() => testApp.close());

  const from = (ip: string) => (http: Http) =>
    http.get('/metrics').set('x-metrics-api-key', KEY_A).set('X-Forwarded-For', ip);

  it('the 6th scrape within the window gets 429 (ratelimit.blocked, scope metrics); /auth/* is not spent', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 5; i += 1) expectAllowed(await scrape(testApp, from(ip)), 'api_key');
    const limited = await scrape(testApp, from(ip));
    expect(limited.res.status).toBe(429);
    expect(limited.res.body).toEqual({ statusCode: 429, error: expect.any(String), code: 'RATE_LIMITED' });
    // The standard header, not only the throttler's own `Retry-After-metrics`.
    expect(Number(limited.res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.published).toContainEqual(
      expect.objectContaining({
        type: 'ratelimit.blocked',
        target: 'GET /metrics',
        details: { scope: 'metrics' },
        source: expect.objectContaining({ ip }),
      }),
    );
    // The /auth/* budget of the same address is untouched.
    const ticket = await request(testApp.url).post('/auth/ws-ticket').set('X-Forwarded-For', ip);
    expect(ticket.status).toBe(401);
  });

  it('and spending the /auth/* budget leaves /metrics its own', async () => {
    const ip = '198.51.100.21';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await request(testApp.url).post('/auth/ws-ticket').set('X-Forwarded-For', ip)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    for (let i = 0; i < 5; i += 1) expectAllowed(await scrape(testApp, from(ip)), 'api_key');
    expect((await scrape(testApp, from(ip))).res.status).toBe(429);
  });
});

describe('the real server in production without keys', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signalgate-metrics-auth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs the METRICS_API_KEYS warning once, at boot, not per request, and never a presented key', async () => {
    const server = spawnServer({
      ...PRODUCTION,
      HOST: '127.0.0.1',
      PORT: '0',
      SQLITE_PATH: join(dir, 'signalgate.db'),
      AUTH_JWT_SECRET: TEST_HS256_SECRET,
      TICKET_SECRET: 't'.repeat(40),
      METRICS_FAILURE_LIMIT: '10000',
      LOG_LEVEL: 'debug',
    });
    try {
      const url = await server.listening();
      const statuses = new Map<number, number>();
      const count = (status: number): void => void statuses.set(status, (statuses.get(status) ?? 0) + 1);
      for (let i = 0; i < 10; i += 1) {
        count((await request(url).get('/metrics')).status);
        count((await request(url).get('/metrics').query({ key: QUERY_ONLY_WRONG })).status);
        count((await request(url).get('/metrics').set('x-internal-request', 'true')).status);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 200: 10, 401: 20 });

      server.child.kill('SIGTERM');
      // Everything logged before the shutdown line has been read once it appears (one pipe, in order).
      await server.waitFor('SIGTERM received');
      expect(await server.exited()).toBe(0);
      const output = server.output();
      expect(output.match(/METRICS_API_KEYS/g)).toHaveLength(1);
      expect(output).toMatch(/WARN.*METRICS_API_KEYS is not set/);
      expect(output).not.toContain(QUERY_ONLY_WRONG);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });
});
