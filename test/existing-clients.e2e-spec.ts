import request from 'supertest';
import { VisitorStore } from '../src/signaling/visitors/visitor.store';
import { connected, disconnected } from './helpers/app';
import { Exposition } from './helpers/exposition';
import { mintHs256 } from './helpers/keys';
import {
  ack,
  AgentClient,
  agentOnline,
  agents,
  bareClient,
  BUILT_IN_WIDGET_SETTINGS,
  expectIncoming,
  Inbox,
  joinVisitor,
  requestCall,
  SALES_PAGE,
  SALES_WIDGET_SETTINGS,
  settle,
  SignalingApp,
  startCall,
  startSignalingApp,
  SUPPORT_PAGE,
} from './helpers/signaling';

/**
 * The existing widget and dashboard as they behave on the wire, each breakage they met now gone:
 * a test (or a few) per item. Item 7 (login budgets behind one address) is in
 * rate-limit.e2e-spec.ts, the recorded widget session in widget-replay.e2e-spec.ts.
 */

/** The keys the existing widget reads, and nothing else. */
const WIDGET_KEYS = [
  'auto_hide_delay',
  'cobrowse_enabled',
  'devices',
  'position',
  'show_minimize_button',
  'size',
  'theme',
  'trigger_delay',
];

/** A support page's visitors are routed to pool_support, whose settings override org_one's. */
const SUPPORT_WIDGET_SETTINGS = { ...SALES_WIDGET_SETTINGS, theme: 'liquid-glass', cobrowse_enabled: false };

interface Failure {
  success: false;
  error: { code: string; message: string };
}
const refusedWith = (code: string): Failure => ({
  success: false,
  error: { code, message: expect.any(String) as string },
});

/** The dashboard's hourly token refresh: `agent:logout`, disconnect, a new socket, login with a new token. */
async function refreshLikeTheDashboard(app: SignalingApp, tab: AgentClient): Promise<AgentClient> {
  expect(await ack(tab.socket, 'agent:logout')).toEqual({ success: true });
  tab.socket.disconnect();
  return agentOnline(app, tab.agentId === agents.a1.agentId ? 'a1' : 'a2', { available: false });
}

describe('the existing widget and dashboard work unchanged (e2e)', () => {
  let app: SignalingApp;
  beforeEach(async () => {
    app = await startSignalingApp();
  });
  afterEach(() => app.close());

  describe('1. widget settings: the keys the widget reads, always complete', () => {
    it('agent:assigned, agent:reassigned and agent:unavailable carry the pool’s over the organisation’s over the defaults', async () => {
      const a1 = await agentOnline(app, 'a1');
      const sales = await joinVisitor(app);
      const assigned = await sales.inbox.next<{ widgetSettings: object }>('agent:assigned');
      expect(assigned.widgetSettings).toEqual(SALES_WIDGET_SETTINGS);
      expect(Object.keys(assigned.widgetSettings).sort()).toEqual(WIDGET_KEYS);

      const support = await joinVisitor(app, { pageUrl: SUPPORT_PAGE });
      expect(await support.inbox.next('agent:assigned')).toMatchObject({
        widgetSettings: SUPPORT_WIDGET_SETTINGS,
      });

      await agentOnline(app, 'a2');
      expect(await ack(a1.socket, 'agent:away', { reason: 'manual' })).toMatchObject({ success: true });
      const reassigned = await sales.inbox.next<{ widgetSettings: object }>('agent:reassigned');
      expect(reassigned.widgetSettings).toEqual(SALES_WIDGET_SETTINGS);
      // a2 serves no support page: that visitor is told nobody is there, with its settings.
      expect(await support.inbox.next('agent:unavailable')).toMatchObject({
        widgetSettings: SUPPORT_WIDGET_SETTINGS,
        poolId: 'pool_support',
      });

      const elsewhere = await joinVisitor(app, { orgId: agents.b1.orgId, pageUrl: 'https://two.example/' });
      expect(await elsewhere.inbox.next('agent:unavailable')).toMatchObject({
        widgetSettings: BUILT_IN_WIDGET_SETTINGS, // org_two sets nothing
      });
    });
  });

  describe('2. call:cancel with the widget’s own placeholder id', () => {
    it('cancels the sender’s pending request, and the agent stops ringing', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      expect(await ack(visitor.socket, 'call:cancel', { requestId: `pending_${Date.now()}` })).toEqual({
        success: true,
      });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      expect(app.scheduler.pending(`call:rna:${requestId}`)).toEqual([]);
      // Nothing is left to cancel now.
      expect(await ack(visitor.socket, 'call:cancel', { requestId: `pending_${Date.now()}` })).toEqual(
        refusedWith('CALL_NOT_FOUND'),
      );
    });

    it('never touches another visitor’s request, whatever id is sent', async () => {
      const a1 = await agentOnline(app, 'a1');
      const a2 = await agentOnline(app, 'a2');
      const mine = await joinVisitor(app);
      const theirs = await joinVisitor(app);
      const theirRequest = await requestCall(theirs, a2.agentId);
      await expectIncoming(a2, theirRequest);

      // Nothing pending: their id is answered like an unknown one, and recorded.
      expect(await ack(mine.socket, 'call:cancel', { requestId: theirRequest })).toEqual(
        refusedWith('CALL_NOT_FOUND'),
      );
      expect(app.events).toContainEqual(
        expect.objectContaining({
          type: 'auth.forbidden',
          target: 'call:cancel',
          reason: 'not_request_owner',
        }),
      );
      // With one pending, their id cancels mine — never theirs.
      const myRequest = await requestCall(mine, a1.agentId);
      await expectIncoming(a1, myRequest);
      expect(await ack(mine.socket, 'call:cancel', { requestId: theirRequest })).toEqual({ success: true });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId: myRequest });
      await settle();
      expect(a2.inbox.all('call:cancelled')).toEqual([]);
      expect(await ack(a2.socket, 'call:accept', { requestId: theirRequest })).toMatchObject({
        success: true,
      });
    });
  });

  describe('3. co-browse', () => {
    const snapshot = (html: string): Record<string, unknown> => ({
      html,
      url: SALES_PAGE,
      title: 'Plans',
      viewport: { width: 1280, height: 720 },
      timestamp: Date.now(),
    });

    it('relays a 300 KiB snapshot intact, and pointer updates, to the socket that carries the call only', async () => {
      const tab1 = await agentOnline(app, 'a1');
      const tab2 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, tab1.agentId);
      await expectIncoming(tab1, requestId);
      expect(await ack(tab1.socket, 'call:accept', { requestId })).toMatchObject({ success: true });
      await visitor.inbox.next('call:accepted');

      const page = `<html><body>${'<p>pricing “plans” ✓</p>'.repeat(12_000)}</body></html>`;
      expect(Buffer.byteLength(page)).toBeGreaterThan(300 * 1024);
      const sent = snapshot(page);
      expect(await ack(visitor.socket, 'cobrowse:snapshot', sent)).toEqual({ success: true });
      expect(await tab1.inbox.next('cobrowse:snapshot')).toEqual(sent);
      const mouse = { x: 10, y: 20, timestamp: 1 };
      expect(await ack(visitor.socket, 'cobrowse:mouse', mouse)).toEqual({ success: true });
      expect(await tab1.inbox.next('cobrowse:mouse')).toEqual(mouse);
      for (const event of ['cobrowse:scroll', 'cobrowse:selection']) {
        expect(await ack(visitor.socket, event, { any: 'shape', n: 1 })).toEqual({ success: true });
        expect(await tab1.inbox.next(event)).toEqual({ any: 'shape', n: 1 });
      }
      await settle();
      expect(tab2.inbox.events().filter((event) => event.startsWith('cobrowse:'))).toEqual([]);
      // Never logged, audited or stored: no security event names the page.
      expect(JSON.stringify(app.events)).not.toContain('pricing “plans”');
    });

    it('closes a connection that sends a 1.1 MiB frame and only that one; a large event on an open connection is INVALID_PAYLOAD', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const other = await joinVisitor(app);
      await startCall(a1, visitor);

      // Over an event's own limit, under the transport's: refused, and the connection stays.
      expect(await ack(visitor.socket, 'cobrowse:mouse', { x: 1, pad: 'p'.repeat(5 * 1024) })).toEqual(
        refusedWith('INVALID_PAYLOAD'),
      );
      expect(
        await ack(visitor.socket, 'visitor:interaction', {
          interactionType: 'c'.repeat(17_000),
          timestamp: 1,
        }),
      ).toEqual(refusedWith('INVALID_PAYLOAD'));
      expect(visitor.socket.connected).toBe(true);

      const closed = disconnected(visitor.socket);
      visitor.socket.emit('cobrowse:snapshot', snapshot('x'.repeat(1.1 * 1024 * 1024)));
      expect(await closed).toEqual(expect.any(String));
      expect(await a1.inbox.next('call:reconnecting')).toMatchObject({ timeoutSeconds: 10 });
      await settle();
      expect(a1.inbox.all('cobrowse:snapshot')).toEqual([]);
      // Everyone else goes on.
      expect(a1.socket.connected && other.socket.connected).toBe(true);
      expect(
        await ack(other.socket, 'visitor:interaction', { interactionType: 'click', timestamp: 1 }),
      ).toEqual({
        success: true,
      });
    });

    it('is FORBIDDEN outside a call, and when the visitor’s settings turn co-browse off', async () => {
      const a1 = await agentOnline(app, 'a1');
      const waiting = await joinVisitor(app);
      expect(await ack(waiting.socket, 'cobrowse:snapshot', snapshot('<html></html>'))).toEqual(
        refusedWith('FORBIDDEN'),
      );
      const support = await joinVisitor(app, { pageUrl: SUPPORT_PAGE });
      const requestId = await requestCall(support, a1.agentId);
      await expectIncoming(a1, requestId);
      expect(await ack(a1.socket, 'call:accept', { requestId })).toMatchObject({ success: true });
      expect(await ack(support.socket, 'cobrowse:mouse', { x: 1, y: 1 })).toEqual(refusedWith('FORBIDDEN'));
      await settle();
      expect(a1.inbox.events().filter((event) => event.startsWith('cobrowse:'))).toEqual([]);
      // About the state of the visitor's own call, not about anyone else's: told, not recorded
      // (the widget's pointer updates in flight when a call ends would each be an audit record).
      expect(app.events.filter((event) => event.target?.startsWith('cobrowse:'))).toEqual([]);
    });
  });

  describe('4. analytics events', () => {
    it('are accepted silently, counted by organisation, and an interaction refreshes the visitor’s activity', async () => {
      await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const store = app.app.get(VisitorStore);
      const joined = (await store.get(visitor.visitorId))!;
      await settle(20);

      visitor.socket.emit('widget:pageview', { agentId: agents.a1.agentId });
      visitor.socket.emit('visitor:interaction', { interactionType: 'click', timestamp: Date.now() });
      visitor.socket.emit('widget:missed_opportunity', { triggerDelaySeconds: 3, poolId: null });
      expect(
        await ack(visitor.socket, 'visitor:interaction', { interactionType: 'click', timestamp: 1 }),
      ).toEqual({
        success: true,
      });
      await settle();
      expect(visitor.inbox.events()).toEqual(['agent:assigned']);
      expect((await store.get(visitor.visitorId))!.lastActivityAt).toBeGreaterThan(joined.lastActivityAt);

      const metrics = new Exposition((await request(app.url).get('/metrics').expect(200)).text);
      const counted = (event: string): number | undefined =>
        metrics.value('signalgate_widget_events_total', { org: agents.a1.orgId, event });
      expect([
        counted('widget:pageview'),
        counted('visitor:interaction'),
        counted('widget:missed_opportunity'),
      ]).toEqual([1, 2, 1]);
    });

    it('from a socket without a visitor session (sent while the widget was offline) are dropped, without an error', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      await startCall(a1, visitor);
      // socket.io-client sends what it buffered during a drop before the widget rejoins.
      const back = await bareClient(app);
      back.socket.emit('visitor:interaction', { interactionType: 'click', timestamp: 1 });
      expect(await ack(back.socket, 'widget:pageview', { agentId: agents.a1.agentId })).toEqual({
        success: true,
      });
      expect(await ack(back.socket, 'cobrowse:mouse', { x: 1, y: 1 })).toEqual({ success: false });
      // An agent has no page to share either.
      expect(await ack(a1.socket, 'cobrowse:mouse', { x: 1, y: 1 })).toEqual({ success: false });
      await settle();
      expect(back.inbox.events()).toEqual([]);
      expect(a1.inbox.all('error')).toEqual([]);
      expect(a1.inbox.all('cobrowse:mouse')).toEqual([]);
      const metrics = new Exposition((await request(app.url).get('/metrics').expect(200)).text);
      expect(metrics.value('signalgate_widget_events_total', { org: agents.a1.orgId })).toBeUndefined();
    });
  });

  describe('5. the dashboard’s hourly token refresh', () => {
    it('keeps an idle agent idle and its visitors where they are', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      await agentOnline(app, 'a2', { available: false });

      const refreshed = await refreshLikeTheDashboard(app, a1);
      expect(refreshed.state.status).toBe('idle');
      await settle();
      expect(visitor.inbox.events()).toEqual(['agent:assigned']);
      // Still the one visitors are routed to.
      const next = await joinVisitor(app);
      expect(await next.inbox.next('agent:assigned')).toMatchObject({
        agent: expect.objectContaining({ id: agents.a1.agentId }),
      });
      expect(app.scheduler.pending('presence:grace:')).toEqual([]);
    });

    it('keeps a live call alive: the new socket carries it, the visitor is told, nothing times out', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      const refreshed = await refreshLikeTheDashboard(app, a1);
      expect(refreshed.state.status).toBe('in_call');
      expect(await visitor.inbox.next('call:reconnecting')).toMatchObject({ callId: call.callId });
      const resumed = await visitor.inbox.next<{ reconnectToken: string }>('call:reconnected');
      expect(resumed).toMatchObject({ callId: call.callId, peerId: agents.a1.agentId });
      expect(app.scheduler.pending('call:reconnect:')).toEqual([]);
      await app.scheduler.fire('presence:grace:');

      // Signals flow both ways through the new socket; the agent's token is still the one it holds.
      const answer = { type: 'answer', sdp: 'v=0\r\n' };
      expect(
        await ack(visitor.socket, 'webrtc:signal', { targetId: agents.a1.agentId, signal: answer }),
      ).toEqual({
        success: true,
      });
      expect(await refreshed.inbox.next('webrtc:signal')).toEqual({
        targetId: visitor.visitorId,
        signal: answer,
      });
      const candidate = { type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0' } };
      expect(
        await ack(refreshed.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: candidate }),
      ).toEqual({
        success: true,
      });
      expect(await visitor.inbox.next('webrtc:signal')).toEqual({
        targetId: agents.a1.agentId,
        signal: candidate,
      });
      expect(
        await ack(refreshed.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: call.agentToken,
        }),
      ).toEqual({ success: true });
      expect(
        await ack(visitor.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: resumed.reconnectToken,
        }),
      ).toEqual({ success: true });
      expect(visitor.inbox.all('call:ended')).toEqual([]);

      expect(await ack(refreshed.socket, 'call:end', { callId: call.callId })).toEqual({ success: true });
      expect(await visitor.inbox.next('call:ended')).toEqual({ callId: call.callId, reason: 'agent_ended' });
    });
  });

  it('keeps a live call alive when every tab of the agent refreshes at once; the tab that speaks for it takes it', async () => {
    const callTab = await agentOnline(app, 'a1');
    const otherTab = await agentOnline(app, 'a1');
    const visitor = await joinVisitor(app);
    const call = await startCall(callTab, visitor);

    // Both tabs log out; the tab without the call is back first.
    for (const tab of [callTab, otherTab]) {
      expect(await ack(tab.socket, 'agent:logout')).toEqual({ success: true });
      tab.socket.disconnect();
    }
    const otherBack = await agentOnline(app, 'a1', { available: false });
    const callBack = await agentOnline(app, 'a1', { available: false });
    expect(await visitor.inbox.next('call:reconnecting')).toMatchObject({ callId: call.callId });
    expect(await visitor.inbox.next('call:reconnected')).toMatchObject({ callId: call.callId });
    expect([otherBack.state.status, callBack.state.status]).toEqual(['in_call', 'in_call']);

    // Until a tab speaks for the call, its traffic reaches every tab.
    const candidate = { type: 'candidate', candidate: { candidate: 'candidate:7', sdpMid: '0' } };
    await ack(visitor.socket, 'webrtc:signal', { targetId: agents.a1.agentId, signal: candidate });
    for (const tab of [otherBack, callBack])
      expect(await tab.inbox.next('webrtc:signal')).toEqual({
        targetId: visitor.visitorId,
        signal: candidate,
      });
    // The tab with the peer connection speaks (here: its heartbeat with the call's token).
    expect(
      await ack(callBack.socket, 'call:heartbeat', { callId: call.callId, reconnectToken: call.agentToken }),
    ).toEqual({ success: true });
    await ack(visitor.socket, 'webrtc:signal', { targetId: agents.a1.agentId, signal: candidate });
    expect(await callBack.inbox.next('webrtc:signal')).toEqual({
      targetId: visitor.visitorId,
      signal: candidate,
    });
    expect(
      await ack(otherBack.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: candidate }),
    ).toEqual(refusedWith('FORBIDDEN'));
    await settle();
    expect(otherBack.inbox.all('webrtc:signal')).toHaveLength(1);
    expect(visitor.inbox.all('webrtc:signal')).toEqual([]);
    expect(visitor.inbox.all('call:ended')).toEqual([]);
  });

  it('an event sent right before the connection closes is still handled, before the disconnect', async () => {
    const a1 = await agentOnline(app, 'a1');
    const visitor = await joinVisitor(app);
    const { callId } = await startCall(a1, visitor);
    a1.socket.emit('call:end', { callId });
    // A frame over the transport's limit: the server closes the connection as soon as it reads it,
    // right after reading call:end.
    a1.socket.emit('webrtc:signal', {
      targetId: visitor.visitorId,
      signal: { sdp: 'x'.repeat(1.1 * 1024 * 1024) },
    });
    expect(await visitor.inbox.next('call:ended')).toEqual({ callId, reason: 'agent_ended' });
    await settle();
    expect(visitor.inbox.all('call:reconnecting')).toEqual([]);
  });

  describe('6. a refused login', () => {
    it('leaves the socket connected and anonymous, so the dashboard does not loop', async () => {
      const client = await bareClient(app);
      let disconnects = 0;
      client.socket.on('disconnect', () => (disconnects += 1));
      for (let attempt = 0; attempt < 3; attempt += 1) {
        client.socket.emit('agent:login', { agentId: agents.a1.agentId, token: 'stale-token' });
        expect(await client.inbox.next('error')).toMatchObject({
          code: 'AUTH_INVALID_TOKEN',
          event: 'agent:login',
        });
      }
      expect(await ack(client.socket, 'agent:back')).toEqual(refusedWith('AUTH_REQUIRED'));
      // The same socket logs in once the dashboard has a good token.
      client.socket.emit('agent:login', {
        agentId: agents.a1.agentId,
        token: await mintHs256({ sub: agents.a1.userId }),
      });
      expect(await client.inbox.next('login:success')).toMatchObject({
        agentState: expect.objectContaining({ agentId: agents.a1.agentId }),
      });
      expect(disconnects).toBe(0);
    });

    it('refused as a refresh, ends the session of the socket but not the socket', async () => {
      const a1 = await agentOnline(app, 'a1');
      const expired = await mintHs256({ sub: agents.a1.userId, exp: Math.floor(Date.now() / 1000) - 60 });
      a1.socket.emit('agent:login', { agentId: agents.a1.agentId, token: expired });
      expect(await a1.inbox.next('error')).toMatchObject({ code: 'AUTH_EXPIRED' });
      expect(await ack(a1.socket, 'agent:status', { status: 'idle' })).toEqual(refusedWith('AUTH_REQUIRED'));
      expect(a1.socket.connected).toBe(true);
    });
  });

  describe('8. several tabs of one agent', () => {
    it('only the tab that accepts gets call:started and the call’s signals; the others stop ringing', async () => {
      const tab1 = await agentOnline(app, 'a1');
      const tab2 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, tab1.agentId);
      await expectIncoming(tab1, requestId);
      await expectIncoming(tab2, requestId);

      expect(await ack(tab1.socket, 'call:accept', { requestId })).toMatchObject({ success: true });
      const started = await tab1.inbox.next<{ call: { callId: string }; reconnectToken: string }>(
        'call:started',
      );
      expect(await tab2.inbox.next('call:cancelled')).toEqual({ requestId, reason: 'answered_elsewhere' });

      // The visitor's answer reaches the accepting tab only; the other tab cannot offer.
      const answer = { type: 'answer', sdp: 'v=0\r\n' };
      await ack(visitor.socket, 'webrtc:signal', { targetId: tab1.agentId, signal: answer });
      expect(await tab1.inbox.next('webrtc:signal')).toEqual({ targetId: visitor.visitorId, signal: answer });
      const offer = { type: 'offer', sdp: 'v=0\r\nfrom tab2\r\n' };
      expect(await ack(tab2.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: offer })).toEqual(
        refusedWith('FORBIDDEN'),
      );
      await settle();
      expect(tab2.inbox.all('call:started')).toEqual([]);
      expect(tab2.inbox.all('webrtc:signal')).toEqual([]);
      expect(visitor.inbox.all('webrtc:signal')).toEqual([]);
      expect(app.events).toContainEqual(
        expect.objectContaining({
          type: 'auth.forbidden',
          target: 'webrtc:signal',
          reason: 'not_call_socket',
        }),
      );

      // The accepting tab drops; another tab reconnects with the call's token: the call moves there.
      tab1.socket.disconnect();
      expect(await visitor.inbox.next('call:reconnecting')).toMatchObject({ callId: started.call.callId });
      expect(
        await ack(tab2.socket, 'call:reconnect', { reconnectToken: started.reconnectToken, role: 'agent' }),
      ).toEqual({ success: true, callId: started.call.callId });
      await tab2.inbox.next('call:reconnected');
      await ack(visitor.socket, 'webrtc:signal', { targetId: tab1.agentId, signal: answer });
      expect(await tab2.inbox.next('webrtc:signal')).toEqual({ targetId: visitor.visitorId, signal: answer });
      expect(await ack(tab2.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: offer })).toEqual(
        {
          success: true,
        },
      );
      expect(await visitor.inbox.next('webrtc:signal')).toEqual({ targetId: tab1.agentId, signal: offer });
    });
  });

  describe('9. the call log', () => {
    const ONE_ADMIN = '10000000-0000-4000-8000-000000000101';
    const TWO_ADMIN = '10000000-0000-4000-8000-000000000201';

    async function calls(
      sub: string,
      query = '',
    ): Promise<{ status: number; body: { items: Record<string, unknown>[] } }> {
      const response = await request(app.url)
        .get(`/admin/calls${query}`)
        .set('Authorization', `Bearer ${await mintHs256({ sub })}`);
      return { status: response.status, body: response.body as { items: Record<string, unknown>[] } };
    }

    /** The rows are written off the call's path, in batches: wait for one that `matches`. */
    async function rowOf(
      callLogId: string,
      matches: (row: Record<string, unknown>) => boolean,
    ): Promise<Record<string, unknown>> {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const row = (await calls(ONE_ADMIN)).body.items.find((item) => item.callLogId === callLogId);
        if (row && matches(row)) return row;
        await settle(100);
      }
      throw new Error(`no such row ${callLogId} in the call log`);
    }
    const endedRow = (callLogId: string): Promise<Record<string, unknown>> =>
      rowOf(callLogId, (row) => row.endedAt !== null);

    it('has the row of call:started.call.callLogId after a call; another organisation’s admin does not see it', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, a1.agentId);
      await expectIncoming(a1, requestId);
      const { callId } = await ack<{ callId: string }>(a1.socket, 'call:accept', { requestId });
      const started = await a1.inbox.next<{ call: { callLogId: string; startedAt: number } }>('call:started');
      // Written when the call starts, not only when it ends: a live call is in the log already.
      expect(await rowOf(started.call.callLogId, () => true)).toMatchObject({
        callId,
        startedAt: started.call.startedAt,
        endedAt: null,
        endReason: null,
      });
      expect(await ack(visitor.socket, 'call:end', { callId })).toEqual({ success: true });

      const row = await endedRow(started.call.callLogId);
      expect(row).toEqual({
        callLogId: started.call.callLogId,
        callId,
        orgId: agents.a1.orgId,
        agentId: agents.a1.agentId,
        visitorId: visitor.visitorId,
        pageUrl: SALES_PAGE,
        requestedAt: expect.any(Number),
        startedAt: started.call.startedAt,
        endedAt: expect.any(Number),
        endReason: 'visitor_ended',
        durationSeconds: expect.any(Number),
      });
      expect(row.requestedAt as number).toBeLessThanOrEqual(started.call.startedAt);

      const theirs = await calls(TWO_ADMIN);
      expect(theirs.status).toBe(200);
      expect(theirs.body.items.map((item) => item.callLogId)).not.toContain(started.call.callLogId);
      expect((await calls(TWO_ADMIN, `?orgId=${agents.a1.orgId}`)).status).toBe(403);
      // An agent is not an auditor.
      expect((await calls(agents.a1.userId)).status).toBe(403);
    });
  });

  describe('10. small ones', () => {
    it('call:incoming and call:started always carry visitor.location (null: no geolocation source)', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, a1.agentId);
      expect(await a1.inbox.next('call:incoming')).toMatchObject({ visitor: { location: null } });
      await ack(a1.socket, 'call:accept', { requestId });
      expect(await a1.inbox.next('call:started')).toMatchObject({ visitor: { location: null } });
    });

    it('stats:update.poolVisitors counts every visitor of the agent’s pools, and is pushed when it changes', async () => {
      const a1 = await agentOnline(app, 'a1'); // sales and support
      const a2 = await agentOnline(app, 'a2'); // sales
      const b1 = await agentOnline(app, 'b1'); // another organisation
      const sales = await joinVisitor(app);
      expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });
      expect(await a2.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });
      await joinVisitor(app, { pageUrl: SUPPORT_PAGE });
      expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 2 });
      expect(await ack(sales.socket, 'visitor:disconnect')).toEqual({ success: true });
      expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });
      expect(await a2.inbox.next('stats:update')).toEqual({ poolVisitors: 0 });
      await settle();
      // The support visitor is not a2's to count; another organisation hears nothing.
      expect(a2.inbox.all('stats:update')).toEqual([
        { poolVisitors: 0 },
        { poolVisitors: 1 },
        { poolVisitors: 0 },
      ]);
      expect(b1.inbox.all('stats:update')).toEqual([{ poolVisitors: 0 }]);
      // A login is told the figure at once.
      const late = await agentOnline(app, 'a3', { available: false });
      expect(late.inbox.all('stats:update')).toEqual([{ poolVisitors: 1 }]);
    });

    it('connect_error.message says what happened', async () => {
      const socket = app.connect({ auth: { token: 'stale' } });
      await expect(connected(socket)).rejects.toMatchObject({
        message: 'Connection refused: the token is invalid.',
        data: { code: 'AUTH_INVALID_TOKEN' },
      });
    });
  });

  describe('11. reconnect, then join, back to back on one new connection', () => {
    it('the visitor resumes its call, and is neither routed again nor assigned twice', async () => {
      const order = ['call:reconnect', 'visitor:join'];
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);
      visitor.socket.disconnect();
      await a1.inbox.next('call:reconnecting');

      const back = app.connect();
      const inbox = new Inbox(back);
      await connected(back);
      const payloads: Record<string, unknown> = {
        'call:reconnect': { reconnectToken: call.visitorToken, role: 'visitor' },
        'visitor:join': { orgId: agents.a1.orgId, pageUrl: SALES_PAGE, visitorId: visitor.visitorId },
      };
      // No waiting in between: both are on the wire before the first is answered.
      const acks = await Promise.all(
        order.map((event) => ack<{ success: boolean }>(back, event, payloads[event])),
      );
      const byEvent = Object.fromEntries(order.map((event, i) => [event, acks[i]]));
      expect(byEvent['call:reconnect']).toEqual({ success: true, callId: call.callId });
      expect(byEvent['visitor:join']).toEqual({ success: true, visitorId: visitor.visitorId });

      expect(await inbox.next('call:reconnected')).toMatchObject({ callId: call.callId });
      expect(await a1.inbox.next('call:reconnected')).toMatchObject({ callId: call.callId });
      await settle();
      expect(inbox.all('agent:assigned')).toEqual([]);
      expect(inbox.all('agent:unavailable')).toEqual([]);
      expect(await app.app.get(VisitorStore).count()).toBe(1);
      const signal = { type: 'answer', sdp: 'v=0\r\n' };
      expect(await ack(back, 'webrtc:signal', { targetId: a1.agentId, signal })).toEqual({ success: true });
      expect(await a1.inbox.next('webrtc:signal')).toEqual({ targetId: visitor.visitorId, signal });
    });
  });
});
