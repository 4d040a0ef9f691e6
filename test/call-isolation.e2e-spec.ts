import {
  ack,
  agentOnline,
  agents,
  bareClient,
  Client,
  forbiddenEvents,
  joinVisitor,
  settle,
  SignalingApp,
  startSignalingApp,
} from './helpers/signaling';

/**
 * Isolation and ownership (PROTOCOL §2 "P", §3 "Never across organisations"): nobody acts on a
 * request or call that is not theirs, signals reach only the peer of one's own call, and races
 * between tabs of one agent end with exactly one call.
 */

interface Requested {
  success: boolean;
  requestId: string;
}
interface Accepted {
  success: boolean;
  callId: string;
}
interface Incoming {
  request: { requestId: string; visitorId: string; agentId: string };
}
interface Started {
  call: { callId: string; visitorId: string; agentId: string };
  reconnectToken: string;
}

/** Sends `event` with an ack and expects the documented refusal on both the ack and the `error` event. */
async function refused(client: Client, event: string, payload: unknown, code: string): Promise<void> {
  const response = await ack(client.socket, event, payload);
  expect(response).toEqual({ success: false, error: { code, message: expect.any(String) } });
  expect(await client.inbox.next('error')).toEqual({ code, message: expect.any(String), event });
}

/**
 * The fixture's ring timeout is one real second. Tests that keep a request ringing while they
 * probe it stop its timer so that only the behaviour under test can move the request. (By key:
 * `scheduler.has`/`cancel` act on the real timers.)
 */
function holdRing(app: SignalingApp, requestId: string): void {
  const key = `call:rna:${requestId}`;
  expect(app.scheduler.has(key)).toBe(true);
  app.scheduler.cancel(key);
}

/** The visitor asks for `agentId`; resolves with the request id once `ringing` was rung. */
async function ring(visitor: Client, agentId: string, ringing: Client): Promise<string> {
  const requested = await ack<Requested>(visitor.socket, 'call:request', { agentId });
  expect(requested).toEqual({ success: true, requestId: expect.any(String) });
  const incoming = await ringing.inbox.next<Incoming>('call:incoming');
  expect(incoming.request.requestId).toBe(requested.requestId);
  return requested.requestId;
}

describe('call isolation and ownership (e2e)', () => {
  let app: SignalingApp;

  beforeEach(async () => {
    app = await startSignalingApp();
  });
  afterEach(() => app.close());

  it('refuses call:accept from a visitor socket with AUTH_REQUIRED and changes nothing', async () => {
    const a1 = await agentOnline(app, 'a1');
    const visitor = await joinVisitor(app);
    const requestId = await ring(visitor, agents.a1.agentId, a1);
    holdRing(app, requestId);

    await refused(visitor, 'call:accept', { requestId }, 'AUTH_REQUIRED');
    // Another visitor, who has nothing to do with the request, is refused the same way.
    const other = await joinVisitor(app);
    await refused(other, 'call:accept', { requestId }, 'AUTH_REQUIRED');
    expect(app.events).toContainEqual(
      expect.objectContaining({ type: 'auth.required', code: 'AUTH_REQUIRED', target: 'call:accept' }),
    );

    await settle();
    expect(visitor.inbox.all('call:accepted')).toEqual([]);
    expect(a1.inbox.all('call:started')).toEqual([]);
    expect(a1.inbox.all('call:cancelled')).toEqual([]);
    // The request still rings a1, who can take it.
    const accepted = await ack<Accepted>(a1.socket, 'call:accept', { requestId });
    expect(accepted).toEqual({ success: true, callId: expect.any(String) });
    expect(await visitor.inbox.next('call:accepted')).toEqual(
      expect.objectContaining({ callId: accepted.callId }),
    );
  });

  it('does not let another agent of the organisation accept or reject a request that rings someone else', async () => {
    const a1 = await agentOnline(app, 'a1');
    const a2 = await agentOnline(app, 'a2');
    const visitor = await joinVisitor(app);
    const requestId = await ring(visitor, agents.a1.agentId, a1);
    holdRing(app, requestId);
    expect(a2.inbox.all('call:incoming')).toEqual([]);

    await refused(a2, 'call:accept', { requestId }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:accept')).toEqual([
      expect.objectContaining({
        type: 'auth.forbidden',
        outcome: 'failure',
        code: 'CALL_NOT_FOUND',
        reason: 'not_ringing_agent',
        target: 'call:accept',
        orgId: agents.a2.orgId,
        actor: expect.objectContaining({ agentId: agents.a2.agentId, userId: agents.a2.userId }),
      }),
    ]);
    await refused(a2, 'call:reject', { requestId, reason: 'not mine' }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:reject')).toEqual([
      expect.objectContaining({ code: 'CALL_NOT_FOUND', reason: 'not_ringing_agent', target: 'call:reject' }),
    ]);

    // An id that does not exist is CALL_NOT_FOUND too, but it is not an authorization decision.
    await refused(a2, 'call:accept', { requestId: 'req_does-not-exist' }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:accept')).toHaveLength(1);

    await settle();
    expect(visitor.inbox.all('call:rejected')).toEqual([]);
    expect(visitor.inbox.all('call:accepted')).toEqual([]);
    expect(a1.inbox.all('call:cancelled')).toEqual([]);
    expect(a2.inbox.all('call:started')).toEqual([]);
    expect(a2.inbox.all('call:incoming')).toEqual([]);
    // It still rings a1, who accepts it.
    const accepted = await ack<Accepted>(a1.socket, 'call:accept', { requestId });
    expect(accepted).toEqual({ success: true, callId: expect.any(String) });
    expect(await visitor.inbox.next('call:accepted')).toEqual(
      expect.objectContaining({ callId: accepted.callId, agentId: agents.a1.agentId }),
    );
  });

  it('does not let an agent of another organisation accept or reject an org_one request', async () => {
    const a1 = await agentOnline(app, 'a1');
    const b1 = await agentOnline(app, 'b1');
    const visitor = await joinVisitor(app);
    const requestId = await ring(visitor, agents.a1.agentId, a1);
    holdRing(app, requestId);

    await refused(b1, 'call:accept', { requestId }, 'CALL_NOT_FOUND');
    await refused(b1, 'call:reject', { requestId }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:accept')).toEqual([
      expect.objectContaining({
        code: 'CALL_NOT_FOUND',
        reason: 'cross_organization',
        orgId: agents.b1.orgId,
        actor: expect.objectContaining({ agentId: agents.b1.agentId }),
      }),
    ]);
    expect(forbiddenEvents(app, 'call:reject')).toEqual([
      expect.objectContaining({ code: 'CALL_NOT_FOUND', reason: 'cross_organization' }),
    ]);

    await settle();
    expect(visitor.inbox.all('call:accepted')).toEqual([]);
    expect(visitor.inbox.all('call:rejected')).toEqual([]);
    expect(b1.inbox.all('call:started')).toEqual([]);
    expect(await ack(a1.socket, 'call:accept', { requestId })).toEqual({
      success: true,
      callId: expect.any(String),
    });
  });

  it("does not let another agent or another visitor end a call or cancel someone else's request", async () => {
    const a1 = await agentOnline(app, 'a1');
    const a2 = await agentOnline(app, 'a2');
    const b1 = await agentOnline(app, 'b1');
    const v1 = await joinVisitor(app);
    const requestId = await ring(v1, agents.a1.agentId, a1);
    const accepted = await ack<Accepted>(a1.socket, 'call:accept', { requestId });
    const { reconnectToken } = await v1.inbox.next<{ reconnectToken: string }>('call:accepted');
    const { callId } = accepted;

    // v2 and v3 are other visitors of the same organisation; v3 has a request ringing a2.
    const v2 = await joinVisitor(app);
    const v3 = await joinVisitor(app);
    const otherRequest = await ring(v3, agents.a2.agentId, a2);
    holdRing(app, otherRequest);

    await refused(a2, 'call:end', { callId }, 'CALL_NOT_FOUND');
    await refused(v2, 'call:end', { callId }, 'CALL_NOT_FOUND');
    await refused(b1, 'call:end', { callId }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:end')).toEqual([
      expect.objectContaining({
        code: 'CALL_NOT_FOUND',
        reason: 'not_call_party',
        actor: expect.objectContaining({ agentId: agents.a2.agentId }),
      }),
      expect.objectContaining({
        code: 'CALL_NOT_FOUND',
        reason: 'not_call_party',
        orgId: agents.a1.orgId,
        details: { visitorId: v2.visitorId },
      }),
      expect.objectContaining({ code: 'CALL_NOT_FOUND', reason: 'cross_organization' }),
    ]);

    await refused(v2, 'call:cancel', { requestId: otherRequest }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:cancel')).toEqual([
      expect.objectContaining({
        code: 'CALL_NOT_FOUND',
        reason: 'not_request_owner',
        details: { visitorId: v2.visitorId },
      }),
    ]);
    // Unknown ids are CALL_NOT_FOUND without a record.
    await refused(v2, 'call:end', { callId: 'call_unknown' }, 'CALL_NOT_FOUND');
    await refused(v2, 'call:cancel', { requestId: 'req_unknown' }, 'CALL_NOT_FOUND');
    expect(forbiddenEvents(app, 'call:end')).toHaveLength(3);
    expect(forbiddenEvents(app, 'call:cancel')).toHaveLength(1);

    await settle();
    for (const client of [a1, v1, a2, v2, v3]) expect(client.inbox.all('call:ended')).toEqual([]);
    expect(a2.inbox.all('call:cancelled')).toEqual([]);
    // The call is intact and the request still rings a2.
    expect(await ack(v1.socket, 'call:heartbeat', { callId, reconnectToken })).toEqual({ success: true });
    expect(await ack(a2.socket, 'call:accept', { requestId: otherRequest })).toEqual({
      success: true,
      callId: expect.any(String),
    });
    await ack(v1.socket, 'call:end', { callId });
    expect(await a1.inbox.next('call:ended')).toEqual({ callId, reason: 'visitor_ended' });
  });

  it('forbids webrtc:signal to anyone but the peer of the current call and delivers nothing', async () => {
    const a1 = await agentOnline(app, 'a1');
    const a2 = await agentOnline(app, 'a2');
    const v1 = await joinVisitor(app);
    const requestId = await ring(v1, agents.a1.agentId, a1);
    await ack(a1.socket, 'call:accept', { requestId });
    await v1.inbox.next('call:accepted');
    const v2 = await joinVisitor(app);
    const anon = await bareClient(app);
    const signal = { type: 'offer', sdp: 'v=0\r\n' };

    const cases: [Client, string, string][] = [
      [a1, v2.visitorId, 'not_call_peer'], // another visitor
      [a1, agents.a2.agentId, 'not_call_peer'], // another agent
      [v1, agents.a2.agentId, 'not_call_peer'],
      [v1, v2.visitorId, 'not_call_peer'],
      [v2, agents.a1.agentId, 'no_active_call'], // a visitor without a call
      [a2, v1.visitorId, 'no_active_call'], // an agent without a call
      [anon, agents.a1.agentId, 'no_active_call'], // a socket that never joined
    ];
    for (const [sender, targetId] of cases) {
      await refused(sender, 'webrtc:signal', { targetId, signal }, 'FORBIDDEN');
    }
    expect(forbiddenEvents(app, 'webrtc:signal')).toEqual(
      cases.map(([, , reason]) =>
        expect.objectContaining({ code: 'FORBIDDEN', reason, target: 'webrtc:signal' }),
      ),
    );

    await settle();
    for (const client of [a1, a2, v1, v2, anon]) expect(client.inbox.all('webrtc:signal')).toEqual([]);
    // The peer itself is reachable (the refusals above are not a relay that never works).
    await ack(a1.socket, 'webrtc:signal', { targetId: v1.visitorId, signal });
    expect(await v1.inbox.next('webrtc:signal')).toEqual({ targetId: agents.a1.agentId, signal });
  });

  it('never assigns or rings an agent of another organisation, even when none of the visitor’s is free', async () => {
    const b1 = await agentOnline(app, 'b1');
    expect(b1.inbox.all('stats:update')).toEqual([{ poolVisitors: 0 }]);

    const visitor = await joinVisitor(app);
    expect(await visitor.inbox.next('agent:unavailable')).toEqual({
      visitorId: visitor.visitorId,
      widgetSettings: expect.any(Object),
      poolId: 'pool_sales',
      reason: 'no_agent_available',
    });
    expect(visitor.inbox.all('agent:assigned')).toEqual([]);

    // Naming b1 is routed within org_one as if no agent had been named: nothing there, nothing revealed.
    const requested = await ack<Requested>(visitor.socket, 'call:request', { agentId: agents.b1.agentId });
    expect(requested).toEqual({ success: true, requestId: expect.any(String) });
    expect(await visitor.inbox.next('agent:unavailable')).toEqual(
      expect.objectContaining({ visitorId: visitor.visitorId, reason: 'no_agent_available' }),
    );
    await settle();
    expect(b1.inbox.all('call:incoming')).toEqual([]);
    expect(b1.inbox.all('stats:update')).toEqual([{ poolVisitors: 0 }]);
    expect(app.scheduler.has(`call:rna:${requested.requestId}`)).toBe(false);
    expect(visitor.inbox.all('error')).toEqual([]);

    // The request waited for org_one: the first org_one agent to become available gets both.
    const a1 = await agentOnline(app, 'a1');
    const incoming = await a1.inbox.next<Incoming>('call:incoming');
    expect(incoming.request).toEqual(
      expect.objectContaining({ requestId: requested.requestId, agentId: agents.a1.agentId }),
    );
    expect(await visitor.inbox.next('agent:assigned')).toEqual(
      expect.objectContaining({ agent: expect.objectContaining({ id: agents.a1.agentId }) }),
    );
    await settle();
    expect(b1.inbox.all('call:incoming')).toEqual([]);
    expect(b1.inbox.all('stats:update')).toEqual([{ poolVisitors: 0 }]);
  });

  it('does not hand a live visitorId to a second visitor', async () => {
    const a1 = await agentOnline(app, 'a1');
    const first = await joinVisitor(app, { visitorId: 'v-123' });
    expect(first.visitorId).toBe('v-123');
    const second = await joinVisitor(app, { visitorId: 'v-123' });
    expect(second.visitorId).not.toBe('v-123');
    expect(second.visitorId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(await second.inbox.next('agent:assigned')).toEqual(
      expect.objectContaining({ visitorId: second.visitorId }),
    );

    // The second visitor leaving does not end the first one's session.
    second.socket.disconnect();
    await settle();
    expect(first.inbox.all('agent:assigned')).toEqual([expect.objectContaining({ visitorId: 'v-123' })]);
    const requestId = await ring(first, agents.a1.agentId, a1);
    const incoming = a1.inbox.all<Incoming>('call:incoming').at(-1)!;
    expect(incoming.request.visitorId).toBe('v-123');
    const accepted = await ack<Accepted>(a1.socket, 'call:accept', { requestId });
    expect(await first.inbox.next('call:accepted')).toEqual(
      expect.objectContaining({ callId: accepted.callId }),
    );
  });

  it.each(['in_call', 'in_simulation'])(
    'refuses agent:status %s (server-owned) with INVALID_PAYLOAD',
    async (status) => {
      const a1 = await agentOnline(app, 'a1');
      const response = await ack(a1.socket, 'agent:status', { status });
      expect(response).toEqual({
        success: false,
        error: { code: 'INVALID_PAYLOAD', message: expect.any(String) },
      });
      expect(await a1.inbox.next('error')).toEqual({
        code: 'INVALID_PAYLOAD',
        message: expect.any(String),
        event: 'agent:status',
        details: [expect.objectContaining({ field: 'status', message: expect.any(String) })],
      });
      // Still idle: a visitor is assigned to a1.
      const visitor = await joinVisitor(app);
      expect(await visitor.inbox.next('agent:assigned')).toEqual(
        expect.objectContaining({ agent: expect.objectContaining({ id: agents.a1.agentId }) }),
      );
    },
  );
});

describe('concurrent accepts (e2e)', () => {
  let app: SignalingApp;

  // Twenty accepts by one agent within a minute is the documented limit; this suite is about races.
  beforeEach(async () => {
    app = await startSignalingApp({ RATE_LIMIT_ENABLED: 'false' });
  });
  afterEach(() => app.close());

  it('lets exactly one of two tabs of the same agent win a simultaneous accept, every time', async () => {
    const tab1 = await agentOnline(app, 'a1');
    const tab2 = await agentOnline(app, 'a1');
    const rounds = 10;

    for (let round = 1; round <= rounds; round++) {
      const visitor = await joinVisitor(app);
      const requested = await ack<Requested>(visitor.socket, 'call:request', { agentId: agents.a1.agentId });
      for (const tab of [tab1, tab2]) {
        expect((await tab.inbox.next<Incoming>('call:incoming')).request.requestId).toBe(requested.requestId);
      }
      holdRing(app, requested.requestId);

      const acks = await Promise.all(
        [tab1, tab2].map((tab) =>
          ack<Accepted & { error?: { code: string } }>(tab.socket, 'call:accept', {
            requestId: requested.requestId,
          }),
        ),
      );
      const winners = acks.filter((response) => response.success);
      const losers = acks.filter((response) => !response.success);
      expect(winners).toEqual([{ success: true, callId: expect.any(String) }]);
      expect(losers).toEqual([
        { success: false, error: { code: 'CALL_NOT_FOUND', message: expect.any(String) } },
      ]);
      const loser = acks[0].success ? tab2 : tab1;
      expect(await loser.inbox.next('error')).toEqual(
        expect.objectContaining({ code: 'CALL_NOT_FOUND', event: 'call:accept' }),
      );
      const { callId } = winners[0];

      await visitor.inbox.next('call:accepted');
      await settle(100);
      expect(visitor.inbox.all('call:accepted')).toEqual([expect.objectContaining({ callId })]);
      // Only the winning tab carries the call; the other is told it was answered elsewhere.
      const winner = acks[0].success ? tab1 : tab2;
      expect(winner.inbox.all<Started>('call:started').filter((s) => s.call.callId === callId)).toHaveLength(
        1,
      );
      expect(loser.inbox.all<Started>('call:started').filter((s) => s.call.callId === callId)).toEqual([]);
      expect(await loser.inbox.next('call:cancelled')).toEqual({
        requestId: requested.requestId,
        reason: 'answered_elsewhere',
      });

      // Reset for the next round: end the call, the visitor leaves.
      await ack(visitor.socket, 'call:end', { callId });
      await visitor.inbox.next('call:ended');
      for (const tab of [tab1, tab2])
        expect(await tab.inbox.next('call:ended')).toEqual({ callId, reason: 'visitor_ended' });
      visitor.socket.disconnect();
    }
    // One refusal per round, all of them the lost race.
    const errors = [...tab1.inbox.all('error'), ...tab2.inbox.all('error')];
    expect(errors).toHaveLength(rounds);
    for (const error of errors)
      expect(error).toEqual(expect.objectContaining({ code: 'CALL_NOT_FOUND', event: 'call:accept' }));
  });

  it('passes another request ringing the agent to the next agent once it accepts one (agent_busy)', async () => {
    const a1 = await agentOnline(app, 'a1');
    const a2 = await agentOnline(app, 'a2');
    const v1 = await joinVisitor(app);
    const v2 = await joinVisitor(app);
    const first = await ring(v1, agents.a1.agentId, a1);
    const second = await ring(v2, agents.a1.agentId, a1);
    holdRing(app, first);
    holdRing(app, second);

    expect(await ack(a1.socket, 'call:accept', { requestId: first })).toEqual({
      success: true,
      callId: expect.any(String),
    });
    expect(await a1.inbox.next('call:cancelled')).toEqual({ requestId: second });
    const passed = await a2.inbox.next<Incoming>('call:incoming');
    expect(passed.request).toEqual(
      expect.objectContaining({ requestId: second, visitorId: v2.visitorId, agentId: agents.a2.agentId }),
    );
    holdRing(app, second); // a fresh ring timer for a2
    await settle();
    expect(v2.inbox.all('agent:unavailable')).toEqual([]);
    // a1, now in a call, cannot take it any more; a2 can.
    await refused(a1, 'call:accept', { requestId: second }, 'CALL_NOT_FOUND');
    expect(await ack(a2.socket, 'call:accept', { requestId: second })).toEqual({
      success: true,
      callId: expect.any(String),
    });
    expect(await v2.inbox.next('call:accepted')).toEqual(
      expect.objectContaining({ agentId: agents.a2.agentId }),
    );
  });
});
