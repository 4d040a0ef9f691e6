import request from 'supertest';
import { mintHs256 } from './helpers/keys';
import {
  ack,
  AgentClient,
  agentOnline,
  agents,
  bareClient,
  CallSetup,
  joinVisitor,
  settle,
  SignalingApp,
  startCall,
  startSignalingApp,
  SUPPORT_PAGE,
  VisitorClient,
} from './helpers/signaling';

const PLATFORM_ADMIN = '10000000-0000-4000-8000-000000000900';

/** a1 online, a visitor joined and in an accepted call with a1. */
async function inCall(
  app: SignalingApp,
): Promise<CallSetup & { agent: AgentClient; visitor: VisitorClient }> {
  const agent = await agentOnline(app, 'a1');
  const visitor = await joinVisitor(app);
  return { agent, visitor, ...(await startCall(agent, visitor)) };
}

/** Races and corner cases a reviewer found worth pinning down. */
describe('call edge cases (e2e)', () => {
  let app: SignalingApp;

  afterEach(() => app.close());

  describe('with default timers', () => {
    beforeEach(async () => {
      app = await startSignalingApp();
    });

    it('both parties drop; the agent comes back first; the visitor still resumes with the token it holds', async () => {
      const call = await inCall(app);
      call.visitor.socket.disconnect();
      await call.agent.inbox.next('call:reconnecting');
      call.agent.socket.disconnect();
      await settle(50);

      const agentBack = await agentOnline(app, 'a1', { available: false });
      expect(agentBack.state.status).toBe('in_call');
      const resumed = await ack(agentBack.socket, 'call:reconnect', {
        reconnectToken: call.agentToken,
        role: 'agent',
      });
      expect(resumed).toEqual({ success: true, callId: call.callId });
      const agentSide = await agentBack.inbox.next<{ reconnectToken: string; peerId: string }>(
        'call:reconnected',
      );
      expect(agentSide.peerId).toBe(call.visitor.visitorId);

      // The visitor was away when the agent rotated: its own token must still open the call.
      const visitorBack = (await bareClient(app)).inbox;
      expect(
        await ack(visitorBack.socket, 'call:reconnect', {
          reconnectToken: call.visitorToken,
          role: 'visitor',
        }),
      ).toEqual({ success: true, callId: call.callId });
      const visitorSide = await visitorBack.next<{ reconnectToken: string; agent: { id: string } }>(
        'call:reconnected',
      );
      expect(visitorSide.agent.id).toBe(agents.a1.agentId);
      const agentAgain = await agentBack.inbox.next<{ reconnectToken: string }>('call:reconnected');
      expect(
        new Set([
          call.visitorToken,
          visitorSide.reconnectToken,
          agentSide.reconnectToken,
          agentAgain.reconnectToken,
        ]).size,
      ).toBe(4);

      await ack(visitorBack.socket, 'webrtc:signal', {
        targetId: agents.a1.agentId,
        signal: { type: 'answer' },
      });
      expect(await agentBack.inbox.next('webrtc:signal')).toEqual({
        targetId: call.visitor.visitorId,
        signal: { type: 'answer' },
      });
    });

    it('a socket that reconnects into another visitor session leaves its old room: nothing for the old id reaches it', async () => {
      const call = await inCall(app);
      const drifter = await joinVisitor(app, { visitorId: 'visitor-old-id' });
      // The call's visitor drops; the drifter's socket resumes that call with the real token.
      call.visitor.socket.disconnect();
      await call.agent.inbox.next('call:reconnecting');
      await ack(drifter.socket, 'call:reconnect', { reconnectToken: call.visitorToken, role: 'visitor' });

      // The old id is free now; a newcomer takes it and gets a call of its own.
      await ack(call.agent.socket, 'call:end', { callId: call.callId });
      const a2 = await agentOnline(app, 'a2');
      const newcomer = await joinVisitor(app, { visitorId: 'visitor-old-id' });
      expect(newcomer.visitorId).toBe('visitor-old-id');
      const { requestId } = await ack<{ requestId: string }>(newcomer.socket, 'call:request', {
        agentId: a2.agentId,
      });
      await a2.inbox.next('call:incoming');
      await ack(a2.socket, 'call:accept', { requestId });
      await newcomer.inbox.next('call:accepted');
      await ack(a2.socket, 'webrtc:signal', { targetId: 'visitor-old-id', signal: { type: 'offer' } });
      await newcomer.inbox.next('webrtc:signal');
      await settle();
      expect(drifter.inbox.all('call:accepted')).toEqual([]);
      expect(drifter.inbox.all('webrtc:signal')).toEqual([]);
    });

    it('visitor:join for an unknown organisation during a call is refused and changes nothing', async () => {
      const call = await inCall(app);
      const refused = await ack<{ success: boolean; error: { code: string } }>(
        call.visitor.socket,
        'visitor:join',
        {
          orgId: 'org_typo',
          pageUrl: 'https://www.one.example/',
        },
      );
      expect(refused).toEqual({ success: false, error: expect.objectContaining({ code: 'ORG_NOT_FOUND' }) });
      // A page change of the same widget during the call keeps the session as it is.
      expect(
        await ack(call.visitor.socket, 'visitor:join', {
          orgId: agents.a1.orgId,
          pageUrl: 'https://www.one.example/x',
        }),
      ).toEqual({ success: true, visitorId: call.visitor.visitorId });
      await settle();
      expect(call.agent.inbox.all('call:reconnecting')).toEqual([]);
      expect(
        await ack(call.visitor.socket, 'call:heartbeat', {
          callId: call.callId,
          reconnectToken: call.visitorToken,
        }),
      ).toEqual({ success: true });
    });

    it('an admin revoking an agent in a call ends the call for the visitor', async () => {
      const call = await inCall(app);
      await request(app.url)
        .post(`/admin/agents/${agents.a1.agentId}/revoke`)
        .set('Authorization', `Bearer ${await mintHs256({ sub: PLATFORM_ADMIN })}`)
        .expect(200);
      expect(await call.visitor.inbox.next('call:ended')).toEqual({
        callId: call.callId,
        reason: 'agent_ended',
      });
    });

    it("a call:request naming an agent outside the visitor's pool rings the pool instead", async () => {
      const salesOnly = await agentOnline(app, 'a2');
      const support = await agentOnline(app, 'a3'); // pool_support tier 1
      const visitor = await joinVisitor(app, { pageUrl: SUPPORT_PAGE });
      await ack(visitor.socket, 'call:request', { agentId: salesOnly.agentId });
      await support.inbox.next('call:incoming');
      await settle();
      expect(salesOnly.inbox.all('call:incoming')).toEqual([]);
    });
  });

  describe('without rate limits (many visitors from one address)', () => {
    beforeEach(async () => {
      app = await startSignalingApp({ RATE_LIMIT_ENABLED: 'false' });
    });

    it('a visitor leaving frees a place for a visitor waiting because every agent was full', async () => {
      const agent = await agentOnline(app, 'o1');
      const greeted: VisitorClient[] = [];
      for (let i = 0; i < 25; i++)
        greeted.push(await joinVisitor(app, { orgId: agents.o1.orgId, pageUrl: 'https://x.example/vip/a' }));
      const waiting = await joinVisitor(app, { orgId: agents.o1.orgId, pageUrl: 'https://x.example/vip/b' });
      expect(waiting.inbox.all('agent:unavailable')).toHaveLength(1);
      greeted[0].socket.disconnect();
      expect(await waiting.inbox.next<{ agent: { id: string } }>('agent:assigned')).toEqual(
        expect.objectContaining({ agent: expect.objectContaining({ id: agent.agentId }) }),
      );
    });
  });

  it('re-joining does not reset budgets: visitor:join is counted per IP', async () => {
    app = await startSignalingApp({ RATE_LIMIT_WINDOW_MS: '60000' });
    const socket = (await bareClient(app)).socket;
    const codes: string[] = [];
    for (let i = 0; i < 11; i++) {
      const answer = await ack<{ success: boolean; error?: { code: string } }>(socket, 'visitor:join', {
        orgId: agents.a1.orgId,
        pageUrl: 'https://www.one.example/',
      });
      codes.push(answer.success ? 'ok' : answer.error!.code);
    }
    expect(codes).toEqual([...Array<string>(10).fill('ok'), 'RATE_LIMITED']);
    // Another socket from the same address shares the budget.
    const other = (await bareClient(app)).socket;
    expect(
      await ack(other, 'visitor:join', { orgId: agents.a1.orgId, pageUrl: 'https://www.one.example/' }),
    ).toEqual(
      expect.objectContaining({ success: false, error: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    );
  });
});
