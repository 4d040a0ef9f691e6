import request from 'supertest';
import { Socket } from 'socket.io-client';
import { connected, next } from './helpers/app';
import { Exposition, onPath, runWithInput } from './helpers/exposition';
import {
  ack,
  AgentClient,
  agentOnline,
  agents,
  bareClient,
  expectIncoming,
  joinVisitor,
  requestCall,
  SignalingApp,
  startSignalingApp,
  VisitorClient,
} from './helpers/signaling';

const METRICS_KEY = 'exposition-e2e-metrics-key-0123456789';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
/** What Prometheus 3 sends (scrape_protocols default). */
const PROMETHEUS_3_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,' +
  'application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,' +
  'text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
/** A forged client address: without TRUST_PROXY it must be ignored, and never become a label. */
const FORGED_ADDRESS = '203.0.113.77';
const PROMTOOL = onPath('promtool');

/**
 * The real app, real sockets and real HTTP: traffic of every kind, then `GET /metrics` read as
 * Prometheus would. The suite's steps run in order and share the app (and its counters): each
 * step compares the series before and after what it does.
 */
describe('GET /metrics exposition after real traffic', () => {
  let app: SignalingApp;
  /** Every id the traffic used: none may appear in a label value. */
  const ids = new Set<string>();
  const sockets: Socket[] = [];
  let agent: AgentClient;
  let visitor: VisitorClient;
  let callId: string;

  const remember = (...values: (string | undefined)[]): void =>
    values.forEach((value) => value && ids.add(value));

  /** One authorised scrape in the Prometheus text format. */
  async function scrape(): Promise<Exposition> {
    const response = await request(app.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_KEY}`)
      .set('X-Forwarded-For', FORGED_ADDRESS)
      .expect(200);
    expect(response.headers['content-type']).toBe(PROMETHEUS_TEXT);
    return new Exposition(response.text);
  }

  /** A bad-token agent:login on a fresh socket; resolves with the error code the server sent. */
  async function failedLogin(): Promise<string> {
    const socket = app.connect();
    sockets.push(socket);
    await connected(socket);
    remember(socket.id);
    const error = next<{ code: string }>(socket, 'error');
    socket.emit('agent:login', { agentId: agents.a2.agentId, token: 'not-a-jwt-at-all' });
    return (await error).code;
  }

  beforeAll(async () => {
    app = await startSignalingApp({
      METRICS_API_KEYS: METRICS_KEY,
      // Low enough for the suite to trip them on purpose: three failures, then refused.
      RATE_LIMIT_LOGIN_MAX: '3',
      RATE_LIMIT_HTTP_MAX: '2',
      RATE_LIMIT_METRICS_MAX: '1000',
    });
    remember(agents.a1.agentId, agents.a1.userId, agents.a2.agentId, agents.a2.userId);
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await app?.close();
  });

  it('a scrape without a key is a 401 counted as a failed scrape and a guard rejection', async () => {
    const before = await scrape();
    const refused = await request(app.url).get('/metrics').expect(401);
    expect(refused.body).toEqual({ statusCode: 401, error: 'API key required', code: 'AUTH_REQUIRED' });
    const after = await scrape();
    expect(after.count('signalgate_metrics_scrapes_total', { outcome: 'failure' })).toBe(
      before.count('signalgate_metrics_scrapes_total', { outcome: 'failure' }) + 1,
    );
    // The scrape that read `before` is itself counted by the time `after` is read.
    expect(after.count('signalgate_metrics_scrapes_total', { outcome: 'success' })).toBe(
      before.count('signalgate_metrics_scrapes_total', { outcome: 'success' }) + 1,
    );
    const guard = { guard: 'MetricsApiKeyGuard', code: 'AUTH_REQUIRED' };
    expect(after.count('signalgate_guard_rejections_total', guard)).toBe(
      before.count('signalgate_guard_rejections_total', guard) + 1,
    );
  });

  it('an agent event before login is a WsAgentAuthGuard AUTH_REQUIRED rejection, counted with its code', async () => {
    const labels = { guard: 'WsAgentAuthGuard', code: 'AUTH_REQUIRED' };
    const before = await scrape();
    const anonymous = await bareClient(app);
    sockets.push(anonymous.socket);
    remember(anonymous.socket.id);
    const error = next<{ code: string }>(anonymous.socket, 'error');
    anonymous.socket.emit('agent:status', { status: 'available' });
    expect((await error).code).toBe('AUTH_REQUIRED');
    const after = await scrape();
    expect(after.count('signalgate_guard_rejections_total', labels)).toBe(
      before.count('signalgate_guard_rejections_total', labels) + 1,
    );
    // The event is counted with the code it was refused with, and timed, though it never reached
    // its handler.
    const refused = { event: 'agent:status', result: 'AUTH_REQUIRED' };
    expect(after.count('signalgate_ws_events_total', refused)).toBe(
      before.count('signalgate_ws_events_total', refused) + 1,
    );
    expect(after.count('signalgate_ws_events_total', { event: 'agent:status', result: 'ok' })).toBe(
      before.count('signalgate_ws_events_total', { event: 'agent:status', result: 'ok' }),
    );
    expect(after.count('signalgate_ws_event_duration_seconds_count', { event: 'agent:status' })).toBe(
      before.count('signalgate_ws_event_duration_seconds_count', { event: 'agent:status' }) + 1,
    );
  });

  it('a failed login counts a failure with its reason; a successful one counts a success by method', async () => {
    const failure = { method: 'unknown', outcome: 'failure', reason: 'malformed' };
    const success = { method: 'hs256', outcome: 'success', reason: 'none' };
    const before = await scrape();
    expect(await failedLogin()).toBe('AUTH_INVALID_TOKEN');
    const afterFailure = await scrape();
    expect(afterFailure.count('signalgate_auth_attempts_total', failure)).toBe(
      before.count('signalgate_auth_attempts_total', failure) + 1,
    );
    expect(afterFailure.count('signalgate_auth_attempts_total', { outcome: 'success' })).toBe(
      before.count('signalgate_auth_attempts_total', { outcome: 'success' }),
    );

    agent = await agentOnline(app, 'a1');
    sockets.push(agent.socket);
    remember(agent.socket.id, agent.state.agentId);
    const afterSuccess = await scrape();
    expect(afterSuccess.count('signalgate_auth_attempts_total', success)).toBe(
      afterFailure.count('signalgate_auth_attempts_total', success) + 1,
    );
    expect(afterSuccess.count('signalgate_auth_attempts_total', { outcome: 'failure' })).toBe(
      afterFailure.count('signalgate_auth_attempts_total', { outcome: 'failure' }),
    );
    expect(afterSuccess.value('signalgate_agents_online', { status: 'idle' })).toBe(1);
    expect(afterSuccess.value('signalgate_agents_online', { status: 'in_call' })).toBe(0);
    expect(afterSuccess.count('signalgate_ws_events_total', { event: 'agent:back', result: 'ok' })).toBe(
      afterFailure.count('signalgate_ws_events_total', { event: 'agent:back', result: 'ok' }) + 1,
    );
  });

  it('a visitor joining is counted, and so is its socket', async () => {
    const before = await scrape();
    expect(before.value('signalgate_visitors_connected')).toBe(0);
    visitor = await joinVisitor(app);
    sockets.push(visitor.socket);
    remember(visitor.visitorId, visitor.socket.id);
    const after = await scrape();
    expect(after.value('signalgate_visitors_connected')).toBe(1);
    expect(after.value('signalgate_sockets_connected')).toBe(
      before.value('signalgate_sockets_connected')! + 1,
    );
    expect(after.count('signalgate_ws_events_total', { event: 'visitor:join', result: 'ok' })).toBe(
      before.count('signalgate_ws_events_total', { event: 'visitor:join', result: 'ok' }) + 1,
    );
  });

  it('a call: pending while ringing, active once accepted, counted by outcome once ended', async () => {
    const accepts = { event: 'call:accept' };
    const idle = await scrape();
    expect(idle.value('signalgate_calls_pending')).toBe(0);
    expect(idle.value('signalgate_calls_active')).toBe(0);

    // Accepting a request that does not exist reaches the handler and fails there.
    const unknownRequest = 'req-does-not-exist-0001';
    remember(unknownRequest);
    const refused = await ack<{ success: boolean; error: { code: string } }>(agent.socket, 'call:accept', {
      requestId: unknownRequest,
    });
    expect(refused).toMatchObject({ success: false, error: { code: 'CALL_NOT_FOUND' } });

    const requestId = await requestCall(visitor, agent.agentId);
    remember(requestId);
    await expectIncoming(agent, requestId, visitor.visitorId);
    const ringing = await scrape();
    expect(ringing.value('signalgate_calls_pending')).toBe(1);
    expect(ringing.value('signalgate_calls_active')).toBe(0);
    expect(ringing.count('signalgate_ws_events_total', { ...accepts, result: 'CALL_NOT_FOUND' })).toBe(
      idle.count('signalgate_ws_events_total', { ...accepts, result: 'CALL_NOT_FOUND' }) + 1,
    );

    const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
      requestId,
    });
    expect(accepted).toEqual({ success: true, callId: expect.any(String) });
    callId = accepted.callId;
    remember(callId);
    await visitor.inbox.next('call:accepted');
    await agent.inbox.next('call:started');
    const active = await scrape();
    expect(active.value('signalgate_calls_active')).toBe(1);
    expect(active.value('signalgate_calls_pending')).toBe(0);
    expect(active.value('signalgate_agents_online', { status: 'in_call' })).toBe(1);
    expect(active.value('signalgate_agents_online', { status: 'idle' })).toBe(0);
    expect(active.count('signalgate_ws_events_total', { ...accepts, result: 'ok' })).toBe(
      ringing.count('signalgate_ws_events_total', { ...accepts, result: 'ok' }) + 1,
    );
    // Both accepts, the refused one included, were timed.
    expect(active.count('signalgate_ws_event_duration_seconds_count', accepts)).toBe(
      idle.count('signalgate_ws_event_duration_seconds_count', accepts) + 2,
    );
    expect(active.count('signalgate_ws_event_duration_seconds_count', { event: 'call:request' })).toBe(
      idle.count('signalgate_ws_event_duration_seconds_count', { event: 'call:request' }) + 1,
    );
  });

  it('the JSON summary reads the same state: 1 agent online, 1 visitor, 1 active call', async () => {
    const response = await request(app.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_KEY}`)
      .set('Accept', 'application/json')
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const sockets = (await scrape()).value('signalgate_sockets_connected');
    expect(response.body).toEqual({
      timestamp: expect.any(String),
      connections: { agents: 1, onlineAgents: 1, visitors: 1, sockets },
      calls: { active: 1, pending: 0 },
      memory: {
        rss: expect.any(Number),
        heapUsed: expect.any(Number),
        heapTotal: expect.any(Number),
        external: expect.any(Number),
      },
      uptime: expect.any(Number),
    });
    expect(Number.isNaN(Date.parse(response.body.timestamp as string))).toBe(false);
    // Agent, visitor and at least the anonymous socket of the guard test.
    expect(sockets).toBeGreaterThanOrEqual(3);
  });

  it('call:end ends the call: calls_active back to 0 and calls_total{outcome="agent_ended"} + 1', async () => {
    const labels = { outcome: 'agent_ended' };
    const before = await scrape();
    expect(await ack(agent.socket, 'call:end', { callId })).toMatchObject({ success: true });
    await visitor.inbox.next('call:ended');
    const after = await scrape();
    expect(after.value('signalgate_calls_active')).toBe(0);
    expect(after.count('signalgate_calls_total', labels)).toBe(
      before.count('signalgate_calls_total', labels) + 1,
    );
    expect(after.count('signalgate_ws_events_total', { event: 'call:end', result: 'ok' })).toBe(
      before.count('signalgate_ws_events_total', { event: 'call:end', result: 'ok' }) + 1,
    );
  });

  it('the login failure budget tripping counts rate_limited_total{scope="login"}', async () => {
    const before = await scrape();
    // The budget (3 failures per IP) already spent 1 on a failure (successes never count): two
    // more, then refused.
    expect(await failedLogin()).toBe('AUTH_INVALID_TOKEN');
    expect(await failedLogin()).toBe('AUTH_INVALID_TOKEN');
    expect(await failedLogin()).toBe('RATE_LIMITED');
    const after = await scrape();
    expect(after.count('signalgate_rate_limited_total', { scope: 'login' })).toBe(
      before.count('signalgate_rate_limited_total', { scope: 'login' }) + 1,
    );
    expect(after.count('signalgate_rate_limited_total', { scope: 'ws' })).toBe(
      before.count('signalgate_rate_limited_total', { scope: 'ws' }),
    );
    expect(after.count('signalgate_rate_limited_total', { scope: 'http' })).toBe(
      before.count('signalgate_rate_limited_total', { scope: 'http' }),
    );
  });

  it('HTTP durations are labelled by route template; an HTTP limit counts rate_limited_total{scope="http"}', async () => {
    const recordId = '7f3d2c1b-0000-4000-8000-00000000abcd';
    remember(recordId);
    const template = { method: 'GET', route: '/admin/audit/events/:id', status: '401' };
    const before = await scrape();
    await request(app.url)
      .get(`/admin/audit/events/${recordId}`)
      .set('X-Forwarded-For', FORGED_ADDRESS)
      .expect(401);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await request(app.url).post('/auth/ws-ticket')).status);
    expect(statuses).toEqual([401, 401, 429]);
    const after = await scrape();
    expect(after.count('signalgate_http_request_duration_seconds_count', template)).toBe(
      before.count('signalgate_http_request_duration_seconds_count', template) + 1,
    );
    const ticket = { method: 'POST', route: '/auth/ws-ticket' };
    expect(after.count('signalgate_http_request_duration_seconds_count', { ...ticket, status: '429' })).toBe(
      before.count('signalgate_http_request_duration_seconds_count', { ...ticket, status: '429' }) + 1,
    );
    expect(after.count('signalgate_rate_limited_total', { scope: 'http' })).toBe(
      before.count('signalgate_rate_limited_total', { scope: 'http' }) + 1,
    );
    // Histogram buckets, sum and count of one series agree.
    const inf = after.value('signalgate_http_request_duration_seconds_bucket', { ...template, le: '+Inf' });
    expect(inf).toBe(after.value('signalgate_http_request_duration_seconds_count', template));
    expect(after.value('signalgate_http_request_duration_seconds_sum', template)).toBeGreaterThan(0);
  });

  it('the audit queue depth is exposed, and records written grow once the recorder flushes', async () => {
    const written = { result: 'written' };
    const before = await scrape();
    expect(before.value('signalgate_audit_queue_depth')).toBeGreaterThanOrEqual(0);
    for (const result of ['written', 'spilled', 'replayed', 'write_failed'])
      expect(before.value('signalgate_audit_events_total', { result })).toBeGreaterThanOrEqual(0);
    // A failure is an audit record; the recorder writes it within its flush interval (250 ms).
    expect(await failedLogin()).toBe('RATE_LIMITED');
    let after = before;
    for (let attempt = 0; attempt < 40; attempt += 1) {
      after = await scrape();
      if (
        after.count('signalgate_audit_events_total', written) >
        before.count('signalgate_audit_events_total', written)
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(after.count('signalgate_audit_events_total', written)).toBeGreaterThan(
      before.count('signalgate_audit_events_total', written),
    );
  });

  describe('content negotiation', () => {
    it('Prometheus text by default and for Accept: text/plain;version=0.0.4', async () => {
      const authorised = () => request(app.url).get('/metrics').set('Authorization', `Bearer ${METRICS_KEY}`);
      const plain = await authorised().expect(200);
      expect(plain.headers['content-type']).toBe(PROMETHEUS_TEXT);
      const asked = await authorised().set('Accept', 'text/plain;version=0.0.4').expect(200);
      expect(asked.headers['content-type']).toBe(PROMETHEUS_TEXT);
      for (const text of [plain.text, asked.text]) {
        expect(text).toMatch(/^# TYPE signalgate_auth_attempts_total counter$/m);
        expect(text).not.toContain('# EOF');
      }
    });

    it("OpenMetrics for Prometheus 3's Accept; the shared registry is left as it was", async () => {
      const response = await request(app.url)
        .get('/metrics')
        .set('Authorization', `Bearer ${METRICS_KEY}`)
        .set('Accept', PROMETHEUS_3_ACCEPT)
        .expect(200);
      expect(response.headers['content-type']).toBe(OPENMETRICS_TEXT);
      const text = response.text;
      expect(text.trimEnd().endsWith('# EOF')).toBe(true);
      expect(
        text
          .trimEnd()
          .split('\n')
          .filter((line) => line === '# EOF'),
      ).toHaveLength(1);
      // Counter families are named without `_total`; their samples carry it.
      for (const family of ['auth_attempts', 'calls', 'ws_events', 'metrics_scrapes', 'guard_rejections']) {
        expect(text).toMatch(new RegExp(`^# TYPE signalgate_${family} counter$`, 'm'));
        expect(text).not.toMatch(new RegExp(`^# TYPE signalgate_${family}_total `, 'm'));
        expect(text).toMatch(new RegExp(`^signalgate_${family}_total[{ ]`, 'm'));
      }
      const exposition = new Exposition(text.replace(/^# EOF\s*$/m, ''));
      expect(exposition.value('signalgate_calls_total', { outcome: 'agent_ended' })).toBe(1);

      // The Prometheus text asked for afterwards still names the counters with `_total`.
      const after = await scrape();
      expect(after.text).toMatch(/^# TYPE signalgate_auth_attempts_total counter$/m);
      expect(after.text).toMatch(/^# TYPE signalgate_calls_total counter$/m);
      expect(after.text).not.toMatch(/^# TYPE signalgate_calls counter$/m);
      expect(after.text).not.toContain('# EOF');
      expect(after.value('signalgate_calls_total', { outcome: 'agent_ended' })).toBe(1);
    });
  });

  if (!PROMTOOL) {
    process.stderr.write(
      'WARNING: promtool check metrics not run: promtool is not on PATH ' +
        "(Debian's `prometheus` package provides it; .ci/run installs it)\n",
    );
    // A real skip, so the totals count it as skipped: the reason is in its title.
    it.skip('the exposition passes `promtool check metrics` (skipped: promtool is not on PATH)', () =>
      undefined);
  } else {
    it('the exposition after all that traffic passes `promtool check metrics`', async () => {
      const { text } = await scrape();
      // Every family the traffic above touched is in what promtool reads.
      for (const series of [
        'signalgate_auth_attempts_total',
        'signalgate_guard_rejections_total',
        'signalgate_rate_limited_total',
        'signalgate_ws_events_total',
        'signalgate_http_request_duration_seconds_bucket',
        'signalgate_calls_total',
        'signalgate_process_cpu_seconds_total',
      ]) {
        expect(text).toMatch(new RegExp(`^${series}[{ ]`, 'm'));
      }
      const result = await runWithInput(PROMTOOL, ['check', 'metrics'], text);
      expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: '' });
    });
  }

  it('no label value contains an id, a socket id or an address the traffic used', async () => {
    const exposition = await scrape();
    const values = exposition.labelValues();
    expect(values.length).toBeGreaterThan(50);
    const leaked = values.filter((value) =>
      [...ids, '127.0.0.1', FORGED_ADDRESS].some((id) => value.includes(id)),
    );
    expect(leaked).toEqual([]);
    // Nothing that looks like an address or a UUID at all.
    expect(
      values.filter((value) => /\d+\.\d+\.\d+\.\d+|[0-9a-f]{8}-[0-9a-f]{4}-|::ffff:/i.test(value)),
    ).toEqual([]);
    // The ids were real: each of these was used by the traffic above.
    expect(ids.size).toBeGreaterThanOrEqual(12);
  });
});
