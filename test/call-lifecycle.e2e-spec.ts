import {
  expectRelay,
  ack,
  agentOnline,
  agents,
  bareClient,
  expectIncoming,
  forbiddenEvents,
  Incoming,
  joinVisitor,
  requestCall,
  SALES_WIDGET_SETTINGS,
  settle,
  SignalingApp,
  startCall,
  startSignalingApp,
} from './helpers/signaling';

/**
 * PROTOCOL §3 call lifecycle beyond the happy path: reject, cancel, ring-no-answer, presence
 * changes, staleness, max duration, call heartbeats, reconnects and agents leaving.
 */

const HEX64 = /^[0-9a-f]{64}$/;

interface Ack {
  success: boolean;
  error?: { code: string; message: string };
}
interface Token {
  callId: string;
  reconnectToken: string;
}

const refused = (code: string): Ack => ({
  success: false,
  error: { code, message: expect.any(String) as string },
});
const profileOf = (key: 'a1' | 'a2', displayName: string): Record<string, unknown> =>
  expect.objectContaining({ id: agents[key].agentId, displayName }) as Record<string, unknown>;
const A1 = (): Record<string, unknown> => profileOf('a1', 'A1 (sales tier 1)');
const A2 = (): Record<string, unknown> => profileOf('a2', 'A2 (sales tier 1)');

describe('call lifecycle (e2e)', () => {
  let app: SignalingApp;
  afterEach(() => app?.close());

  describe('with default timers', () => {
    beforeEach(async () => {
      app = await startSignalingApp();
    });

    it('re-routes a rejected request to the next agent, never back to the rejecter, until none is left', async () => {
      const a1 = await agentOnline(app, 'a1');
      const a2 = await agentOnline(app, 'a2');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      expect(await ack(a1.socket, 'call:reject', { requestId, reason: 'wrapping up notes' })).toEqual({
        success: true,
      });
      expect(await visitor.inbox.next('call:rejected')).toEqual({ requestId, reason: 'wrapping up notes' });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      await expectIncoming(a2, requestId, visitor.visitorId);

      expect(await ack(a2.socket, 'call:reject', { requestId })).toEqual({ success: true });
      expect(await visitor.inbox.next('call:rejected')).toEqual({ requestId });
      expect(await a2.inbox.next('call:cancelled')).toEqual({ requestId });
      expect(await visitor.inbox.next('agent:unavailable')).toEqual({
        visitorId: visitor.visitorId,
        widgetSettings: SALES_WIDGET_SETTINGS,
        poolId: 'pool_sales',
        reason: 'agent_away',
      });

      // The request waits, but neither rejecter is offered it again when it becomes available…
      for (const agent of [a1, a2]) {
        expect(await ack(agent.socket, 'agent:away', { reason: 'manual' })).toMatchObject({ success: true });
        expect(await ack(agent.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
      }
      // …while an agent that did not reject it is.
      const a3 = await agentOnline(app, 'a3');
      await expectIncoming(a3, requestId, visitor.visitorId);
      await settle();
      expect(a1.inbox.all('call:incoming')).toHaveLength(1);
      expect(a2.inbox.all('call:incoming')).toHaveLength(1);
      expect(await ack(a1.socket, 'call:accept', { requestId })).toEqual(refused('CALL_NOT_FOUND'));
    });

    it('tells the agent when the visitor cancels, after which the request cannot be accepted', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      expect(await ack(visitor.socket, 'call:cancel', { requestId })).toEqual({ success: true });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      expect(app.scheduler.pending(`call:rna:${requestId}`)).toEqual([]);

      expect(await ack(a1.socket, 'call:accept', { requestId })).toEqual(refused('CALL_NOT_FOUND'));
      expect(await a1.inbox.next('error')).toEqual({
        code: 'CALL_NOT_FOUND',
        message: expect.any(String),
        event: 'call:accept',
      });
      await settle();
      expect(visitor.inbox.all('call:accepted')).toEqual([]);
      expect(a1.inbox.all('call:started')).toEqual([]);
    });

    it('passes an unanswered ring on, with a fresh timer, until no agent is left (RNA)', async () => {
      const a1 = await agentOnline(app, 'a1');
      const a2 = await agentOnline(app, 'a2');
      const visitor = await joinVisitor(app);
      expect(await visitor.inbox.next('agent:assigned')).toMatchObject({ agent: A1() });
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      // The organisation's real 1-second timer.
      expect(await a1.inbox.next('call:rna_timeout', 4000)).toEqual({
        requestId,
        visitorId: visitor.visitorId,
        reason: 'ring_no_answer',
      });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      expect(await a1.inbox.next('agent:marked_away')).toEqual({
        reason: 'ring_no_answer',
        message: expect.any(String),
      });
      expect(await visitor.inbox.next('agent:reassigned')).toEqual({
        previousAgentId: agents.a1.agentId,
        newAgent: A2(),
        reason: 'ring_no_answer',
        widgetSettings: SALES_WIDGET_SETTINGS,
      });
      await expectIncoming(a2, requestId, visitor.visitorId);
      expect(app.scheduler.pending(`call:rna:${requestId}`)).toHaveLength(1);

      // The second ring's own timer.
      expect(await app.scheduler.fire(`call:rna:${requestId}`)).toBe(1);
      expect(await a2.inbox.next('call:rna_timeout')).toEqual({
        requestId,
        visitorId: visitor.visitorId,
        reason: 'ring_no_answer',
      });
      expect(await a2.inbox.next('call:cancelled')).toEqual({ requestId });
      expect(await a2.inbox.next('agent:marked_away')).toEqual({
        reason: 'ring_no_answer',
        message: expect.any(String),
      });
      expect(await visitor.inbox.next('agent:unavailable')).toMatchObject({
        visitorId: visitor.visitorId,
        poolId: 'pool_sales',
        reason: 'ring_no_answer',
      });
      await settle();
      expect(visitor.inbox.all('agent:unavailable').every((u) => u.reason === 'ring_no_answer')).toBe(true);
      expect(a1.inbox.all('call:incoming')).toHaveLength(1);
      expect(a2.inbox.all('call:incoming')).toHaveLength(1);
      expect(app.scheduler.pending(`call:rna:${requestId}`)).toEqual([]);

      // Both are away now: another tab sees it, and a new visitor finds nobody.
      expect((await agentOnline(app, 'a1', { available: false })).state.status).toBe('away');
      expect((await agentOnline(app, 'a2', { available: false })).state.status).toBe('away');
      const late = await joinVisitor(app);
      expect(await late.inbox.next('agent:unavailable')).toMatchObject({ reason: 'no_agent_available' });
    });

    it('reassigns visitors when their agent goes away or offline, naming the previous agent when nobody is left', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      expect(await visitor.inbox.next('agent:assigned')).toMatchObject({ agent: A1() });
      const a2 = await agentOnline(app, 'a2');

      expect(await ack(a1.socket, 'agent:away', { reason: 'manual' })).toEqual({
        success: true,
        status: 'away',
      });
      expect(await visitor.inbox.next('agent:reassigned')).toEqual({
        previousAgentId: agents.a1.agentId,
        newAgent: A2(),
        reason: 'agent_away',
        widgetSettings: SALES_WIDGET_SETTINGS,
      });
      // Who greets the visitor changed, not how many visitors the pool has: a2 was told 1 at login.
      await settle();
      expect(a2.inbox.all('stats:update')).toEqual([{ poolVisitors: 1 }]);

      expect(await ack(a2.socket, 'agent:status', { status: 'away' })).toEqual({
        success: true,
        status: 'away',
      });
      expect(await visitor.inbox.next('agent:unavailable')).toEqual({
        visitorId: visitor.visitorId,
        widgetSettings: SALES_WIDGET_SETTINGS,
        poolId: 'pool_sales',
        previousAgentName: 'A2 (sales tier 1)',
        reason: 'agent_away',
      });

      expect(await ack(a1.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
      expect(await visitor.inbox.next('agent:assigned')).toMatchObject({
        agent: A1(),
        visitorId: visitor.visitorId,
      });

      expect(await ack(a1.socket, 'agent:status', { status: 'offline' })).toEqual({
        success: true,
        status: 'offline',
      });
      expect(await visitor.inbox.next('agent:unavailable')).toEqual({
        visitorId: visitor.visitorId,
        widgetSettings: SALES_WIDGET_SETTINGS,
        poolId: 'pool_sales',
        previousAgentName: 'A1 (sales tier 1)',
        reason: 'agent_offline',
      });
    });

    it('picks up waiting visitors and offers only the oldest waiting request on agent:back', async () => {
      const a1 = await agentOnline(app, 'a1', { available: false });
      const first = await joinVisitor(app);
      const second = await joinVisitor(app);
      for (const visitor of [first, second])
        expect(await visitor.inbox.next('agent:unavailable')).toMatchObject({ reason: 'no_agent_available' });
      const firstRequest = await requestCall(first, agents.a1.agentId);
      const secondRequest = await requestCall(second, agents.a1.agentId);
      for (const visitor of [first, second])
        expect(await visitor.inbox.next('agent:unavailable')).toMatchObject({ reason: 'no_agent_available' });
      await settle();
      expect(a1.inbox.all('call:incoming')).toEqual([]);

      expect(await ack(a1.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
      for (const visitor of [first, second])
        expect(await visitor.inbox.next('agent:assigned')).toMatchObject({
          agent: A1(),
          visitorId: visitor.visitorId,
        });
      await expectIncoming(a1, firstRequest, first.visitorId);
      await settle();
      expect(a1.inbox.all<Incoming>('call:incoming').map((i) => i.request.requestId)).toEqual([firstRequest]);
      expect(secondRequest).not.toBe(firstRequest);
    });

    it('refuses agent:back to an agent of a paused organisation', async () => {
      const p1 = await agentOnline(app, 'p1', { available: false });
      expect(p1.state.status).toBe('away');
      expect(await ack(p1.socket, 'agent:back')).toEqual(refused('FORBIDDEN'));
      expect(await p1.inbox.next('error')).toMatchObject({ code: 'FORBIDDEN', event: 'agent:back' });
      expect(await ack(p1.socket, 'agent:status', { status: 'idle' })).toEqual(refused('FORBIDDEN'));
      expect((await agentOnline(app, 'p1', { available: false })).state.status).toBe('away');
    });

    it('ends a call at its maximum duration', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);
      expect(app.scheduler.pending('call:max-duration:')).toEqual([`call:max-duration:${call.callId}`]);

      expect(await app.scheduler.fire('call:max-duration:')).toBe(1);
      const ended = { callId: call.callId, reason: 'max_duration', message: expect.any(String) };
      expect(await visitor.inbox.next('call:ended')).toEqual(ended);
      expect(await a1.inbox.next('call:ended')).toEqual(ended);
      expect(
        await ack(visitor.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: call.visitorToken,
        }),
      ).toEqual(refused('CALL_NOT_FOUND'));
      expect(await ack(a1.socket, 'agent:status', { status: 'idle' })).toEqual({
        success: true,
        status: 'idle',
      });
    });

    it('accepts a call heartbeat only with the sender’s current token', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const { callId, agentToken, visitorToken } = await startCall(a1, visitor);

      expect(await ack(visitor.socket, 'call:heartbeat', { callId, reconnectToken: visitorToken })).toEqual({
        success: true,
      });
      expect(await ack(a1.socket, 'call:heartbeat', { callId, reconnectToken: agentToken })).toEqual({
        success: true,
      });

      // The other role's token, or one that was never issued.
      expect(await ack(a1.socket, 'call:heartbeat', { callId, reconnectToken: visitorToken })).toEqual(
        refused('CALL_NOT_FOUND'),
      );
      expect(await ack(visitor.socket, 'call:heartbeat', { callId, reconnectToken: agentToken })).toEqual(
        refused('CALL_NOT_FOUND'),
      );
      expect(
        await ack(visitor.socket, 'call:heartbeat', { callId, reconnectToken: 'ab'.repeat(32) }),
      ).toEqual(refused('CALL_NOT_FOUND'));
      expect(await visitor.inbox.next('error')).toMatchObject({
        code: 'CALL_NOT_FOUND',
        event: 'call:heartbeat',
      });
      expect(forbiddenEvents(app, 'call:heartbeat') as unknown as Record<string, unknown>[]).toEqual(
        Array(3).fill(expect.objectContaining({ code: 'CALL_NOT_FOUND', reason: 'invalid_reconnect_token' })),
      );
      // The call is untouched.
      expect(await ack(visitor.socket, 'call:heartbeat', { callId, reconnectToken: visitorToken })).toEqual({
        success: true,
      });
    });

    it('lets the agent reconnect to its call from a new socket within the grace', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      a1.socket.disconnect();
      expect(await visitor.inbox.next('call:reconnecting')).toEqual({
        callId: call.callId,
        message: expect.any(String),
        timeoutSeconds: 10,
      });

      const back = await agentOnline(app, 'a1', { available: false });
      expect(back.state.status).toBe('in_call');
      // The login alone resumes the call on the new socket (the dashboard's token refresh sends no
      // call:reconnect): the visitor is told, with a new token of its own.
      const resumed = await visitor.inbox.next<Token>('call:reconnected');
      expect(resumed).toEqual({
        callId: call.callId,
        reconnectToken: expect.stringMatching(HEX64),
        peerId: agents.a1.agentId,
        agent: expect.objectContaining({ id: agents.a1.agentId, displayName: 'A1 (sales tier 1)' }),
      });
      // The documented reconnect still works with the agent's token, and rotates both.
      expect(
        await ack(back.socket, 'call:reconnect', { reconnectToken: call.agentToken, role: 'agent' }),
      ).toEqual({
        success: true,
        callId: call.callId,
      });
      const visitorSide = await visitor.inbox.next<Token>('call:reconnected');
      expect(visitorSide).toEqual({ ...resumed, reconnectToken: expect.stringMatching(HEX64) });
      expect(visitorSide.reconnectToken).not.toBe(resumed.reconnectToken);
      const agentSide = await back.inbox.next<Token>('call:reconnected');
      expect(agentSide).toEqual({
        callId: call.callId,
        reconnectToken: expect.stringMatching(HEX64),
        peerId: visitor.visitorId,
      });
      expect(
        new Set([call.agentToken, call.visitorToken, agentSide.reconnectToken, visitorSide.reconnectToken])
          .size,
      ).toBe(4);

      await expectRelay(back, agents.a1.agentId, visitor, visitor.visitorId, 'v=0 after agent reconnect');
      await expectRelay(visitor, visitor.visitorId, back, agents.a1.agentId, 'v=0 answer');
      expect(
        await ack(back.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: agentSide.reconnectToken,
        }),
      ).toEqual({ success: true });
      expect(
        await ack(visitor.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: visitorSide.reconnectToken,
        }),
      ).toEqual({ success: true });
    });

    it('lets the visitor reconnect to its call from a new socket within the grace', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      visitor.socket.disconnect();
      expect(await a1.inbox.next('call:reconnecting')).toEqual({
        callId: call.callId,
        message: expect.any(String),
        timeoutSeconds: 10,
      });

      const fresh = await bareClient(app);
      expect(
        await ack(fresh.socket, 'call:reconnect', { reconnectToken: call.visitorToken, role: 'visitor' }),
      ).toEqual({ success: true, callId: call.callId });
      const visitorSide = await fresh.inbox.next<Token>('call:reconnected');
      expect(visitorSide).toEqual({
        callId: call.callId,
        reconnectToken: expect.stringMatching(HEX64),
        peerId: agents.a1.agentId,
        agent: expect.objectContaining({ id: agents.a1.agentId }),
      });
      const agentSide = await a1.inbox.next<Token>('call:reconnected');
      expect(agentSide).toEqual({
        callId: call.callId,
        reconnectToken: expect.stringMatching(HEX64),
        peerId: visitor.visitorId,
      });
      expect(visitorSide.reconnectToken).not.toBe(call.visitorToken);
      expect(agentSide.reconnectToken).not.toBe(call.agentToken);

      await expectRelay(a1, agents.a1.agentId, fresh, visitor.visitorId, 'v=0 to the new socket');
      await expectRelay(fresh, visitor.visitorId, a1, agents.a1.agentId, 'v=0 from the new socket');
    });

    it('refuses a spent reconnect token and a token used for the other role', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      visitor.socket.disconnect();
      await a1.inbox.next('call:reconnecting');
      const fresh = await bareClient(app);
      expect(
        await ack(fresh.socket, 'call:reconnect', { reconnectToken: call.visitorToken, role: 'visitor' }),
      ).toEqual({ success: true, callId: call.callId });
      const visitorToken = (await fresh.inbox.next<Token>('call:reconnected')).reconnectToken;
      const agentToken = (await a1.inbox.next<Token>('call:reconnected')).reconnectToken;

      // The rotated (spent) visitor token, from yet another socket.
      const replay = await bareClient(app);
      expect(
        await ack(replay.socket, 'call:reconnect', { reconnectToken: call.visitorToken, role: 'visitor' }),
      ).toEqual(refused('CALL_NOT_FOUND'));
      expect(await replay.inbox.next('error')).toMatchObject({
        code: 'CALL_NOT_FOUND',
        event: 'call:reconnect',
      });
      expect(forbiddenEvents(app, 'call:reconnect')).toEqual([
        expect.objectContaining({ code: 'CALL_NOT_FOUND', reason: 'invalid_reconnect_token' }),
      ]);
      // The rotated agent token, from the call's own agent.
      expect(
        await ack(a1.socket, 'call:reconnect', { reconnectToken: call.agentToken, role: 'agent' }),
      ).toEqual(refused('CALL_NOT_FOUND'));
      // The visitor's current token claimed for the agent role: by the agent, and by a visitor socket.
      expect(await ack(a1.socket, 'call:reconnect', { reconnectToken: visitorToken, role: 'agent' })).toEqual(
        refused('CALL_NOT_FOUND'),
      );
      expect(
        await ack(fresh.socket, 'call:reconnect', { reconnectToken: visitorToken, role: 'agent' }),
      ).toEqual(refused('AUTH_REQUIRED'));
      expect(forbiddenEvents(app, 'call:reconnect')).toHaveLength(3);
      expect(
        forbiddenEvents(app, 'call:reconnect').every((e) => e.reason === 'invalid_reconnect_token'),
      ).toBe(true);

      // Nothing was spent by the refusals; nobody was told anything.
      await settle();
      expect(fresh.inbox.all('call:reconnected')).toHaveLength(1);
      expect(a1.inbox.all('call:reconnected')).toHaveLength(1);
      expect(
        await ack(fresh.socket, 'call:heartbeat', { callId: call.callId, reconnectToken: visitorToken }),
      ).toEqual({
        success: true,
      });
      expect(
        await ack(a1.socket, 'call:heartbeat', { callId: call.callId, reconnectToken: agentToken }),
      ).toEqual({
        success: true,
      });
    });

    it.each([
      ['agent:away', { reason: 'manual' }, 'agent_away'],
      ['agent:status', { status: 'away' }, 'agent_away'],
      ['agent:status', { status: 'offline' }, 'agent_offline'],
    ])('passes on what rang an agent that sends %s %j', async (event, payload, reason) => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const a2 = await agentOnline(app, 'a2');
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      expect(await ack(a1.socket, event, payload)).toMatchObject({ success: true });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      await expectIncoming(a2, requestId, visitor.visitorId);
      expect(await visitor.inbox.next('agent:reassigned')).toEqual({
        previousAgentId: agents.a1.agentId,
        newAgent: A2(),
        reason,
        widgetSettings: SALES_WIDGET_SETTINGS,
      });
    });

    it('passes on what rang an agent that logs out, and reassigns its visitors once the grace is over', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const a2 = await agentOnline(app, 'a2');
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      expect(await ack(a1.socket, 'agent:logout')).toEqual({ success: true });
      expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId });
      await expectIncoming(a2, requestId, visitor.visitorId);
      // agent:logout is how the existing dashboard refreshes its token: the agent keeps its
      // visitors through the disconnect grace, in case it logs in again.
      await settle();
      expect(visitor.inbox.all('agent:reassigned')).toEqual([]);
      expect(await app.scheduler.fire(`presence:grace:${agents.a1.agentId}`)).toBe(1);
      expect(await visitor.inbox.next('agent:reassigned')).toEqual({
        previousAgentId: agents.a1.agentId,
        newAgent: A2(),
        reason: 'agent_offline',
        widgetSettings: SALES_WIDGET_SETTINGS,
      });
    });

    it('holds a connected call when the agent logs out, and ends it if the agent does not come back', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const { callId } = await startCall(a1, visitor);

      expect(await ack(a1.socket, 'agent:logout')).toEqual({ success: true });
      expect(await visitor.inbox.next('call:reconnecting')).toEqual({
        callId,
        message: expect.any(String),
        timeoutSeconds: 10,
      });
      expect(await app.scheduler.fire(`call:reconnect:${callId}:agent`)).toBe(1);
      expect(await visitor.inbox.next('call:ended')).toEqual({ callId, reason: 'reconnect_failed' });
      expect(app.scheduler.pending(`call:max-duration:${callId}`)).toEqual([]);
    });
  });

  describe('with a short agent disconnect grace', () => {
    beforeEach(async () => {
      app = await startSignalingApp({ AGENT_DISCONNECT_GRACE_MS: '400' });
    });

    it('passes on what rang an agent whose last socket closed, and reassigns its visitors after the grace', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      expect(await visitor.inbox.next('agent:assigned')).toMatchObject({ agent: A1() });
      const a2 = await agentOnline(app, 'a2');
      const requestId = await requestCall(visitor, agents.a1.agentId);
      await expectIncoming(a1, requestId, visitor.visitorId);

      a1.socket.disconnect();
      await expectIncoming(a2, requestId, visitor.visitorId);
      // Its visitors wait for the grace: the agent may come back.
      expect(app.scheduler.pending(`presence:grace:${agents.a1.agentId}`)).toHaveLength(1);
      expect(await visitor.inbox.next('agent:reassigned', 3000)).toEqual({
        previousAgentId: agents.a1.agentId,
        newAgent: A2(),
        reason: 'agent_offline',
        widgetSettings: SALES_WIDGET_SETTINGS,
      });
    });
  });

  describe('with a short call reconnect grace', () => {
    beforeEach(async () => {
      app = await startSignalingApp({ CALL_RECONNECT_GRACE_MS: '300' });
    });

    it('ends the call when the visitor does not come back in time, and the agent is available again', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      visitor.socket.disconnect();
      expect(await a1.inbox.next('call:reconnecting')).toEqual({
        callId: call.callId,
        message: expect.any(String),
        timeoutSeconds: 1,
      });
      expect(await a1.inbox.next('call:reconnect_failed', 3000)).toEqual({
        callId: call.callId,
        reason: 'timeout',
        message: expect.any(String),
      });
      expect(await a1.inbox.next('call:ended')).toEqual({ callId: call.callId, reason: 'reconnect_failed' });
      const events = a1.inbox.events();
      expect(events.indexOf('call:reconnect_failed')).toBeLessThan(events.indexOf('call:ended'));

      // Idle again: the next visitor is greeted by it and can call it.
      const next = await joinVisitor(app);
      expect(await next.inbox.next('agent:assigned')).toMatchObject({ agent: A1() });
      const requestId = await requestCall(next, agents.a1.agentId);
      await expectIncoming(a1, requestId, next.visitorId);
      // The expired call cannot be resumed.
      const late = await bareClient(app);
      expect(
        await ack(late.socket, 'call:reconnect', { reconnectToken: call.visitorToken, role: 'visitor' }),
      ).toEqual(refused('CALL_NOT_FOUND'));
    });

    it('ends the call when the agent does not come back in time', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      const call = await startCall(a1, visitor);

      a1.socket.disconnect();
      expect(await visitor.inbox.next('call:reconnecting')).toMatchObject({ callId: call.callId });
      expect(await visitor.inbox.next('call:reconnect_failed', 3000)).toEqual({
        callId: call.callId,
        reason: 'timeout',
        message: expect.any(String),
      });
      expect(await visitor.inbox.next('call:ended')).toEqual({
        callId: call.callId,
        reason: 'reconnect_failed',
      });
    });
  });

  describe('with a short staleness limit', () => {
    beforeEach(async () => {
      app = await startSignalingApp({ AGENT_STALE_MS: '1000' });
    });

    it('marks a silent idle agent away and reassigns its visitors', async () => {
      const a1 = await agentOnline(app, 'a1');
      const visitor = await joinVisitor(app);
      expect(await visitor.inbox.next('agent:assigned')).toMatchObject({ agent: A1() });
      const a2 = await agentOnline(app, 'a2');
      const keepAlive = setInterval(() => a2.socket.emit('heartbeat', { timestamp: Date.now() }), 200);
      try {
        expect(await a1.inbox.next('agent:marked_away', 4000)).toEqual({
          reason: 'idle',
          message: expect.any(String),
        });
        expect(await visitor.inbox.next('agent:reassigned')).toEqual({
          previousAgentId: agents.a1.agentId,
          newAgent: A2(),
          reason: 'agent_away',
          widgetSettings: SALES_WIDGET_SETTINGS,
        });
        expect(a2.inbox.all('agent:marked_away')).toEqual([]);
      } finally {
        clearInterval(keepAlive);
      }

      // Once the second one falls silent too, nobody is left.
      expect(await a2.inbox.next('agent:marked_away', 4000)).toEqual({
        reason: 'idle',
        message: expect.any(String),
      });
      expect(await visitor.inbox.next('agent:unavailable')).toMatchObject({
        visitorId: visitor.visitorId,
        previousAgentName: 'A2 (sales tier 1)',
        reason: 'agent_away',
      });
    });
  });
});
