import {
  ack,
  agentOnline,
  agents,
  joinVisitor,
  SALES_WIDGET_SETTINGS,
  SignalingApp,
  startSignalingApp,
} from './helpers/signaling';

/** PROTOCOL §2.3 happy path, with the exact wire names and payload shapes. */
describe('a call from join to end (e2e)', () => {
  let app: SignalingApp;

  beforeEach(async () => {
    app = await startSignalingApp();
  });
  afterEach(() => app.close());

  it('routes, rings, accepts, relays and ends with the documented payloads', async () => {
    const agent = await agentOnline(app, 'a1');
    const visitor = await joinVisitor(app);

    const assigned = await visitor.inbox.next('agent:assigned');
    expect(assigned).toEqual({
      agent: {
        id: agents.a1.agentId,
        displayName: 'A1 (sales tier 1)',
        avatarUrl: 'https://cdn.one.example/a1.png',
        waveVideoUrl: null,
        introVideoUrl: null,
        connectVideoUrl: null,
        loopVideoUrl: null,
      },
      visitorId: visitor.visitorId,
      widgetSettings: SALES_WIDGET_SETTINGS,
      visitorConnectedAt: expect.any(Number),
    });
    expect(await agent.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });

    const requested = await ack<{ success: boolean; requestId: string }>(visitor.socket, 'call:request', {
      agentId: agents.a1.agentId,
    });
    expect(requested).toEqual({ success: true, requestId: expect.any(String) });
    const incoming = await agent.inbox.next('call:incoming');
    expect(incoming).toEqual({
      request: {
        requestId: requested.requestId,
        visitorId: visitor.visitorId,
        agentId: agents.a1.agentId,
        orgId: agents.a1.orgId,
        pageUrl: 'https://www.one.example/pricing/plans',
        requestedAt: expect.any(Number),
      },
      visitor: {
        visitorId: visitor.visitorId,
        pageUrl: 'https://www.one.example/pricing/plans',
        connectedAt: assigned.visitorConnectedAt,
        location: null,
      },
    });

    const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
      requestId: requested.requestId,
    });
    expect(accepted.success).toBe(true);
    const visitorSide = await visitor.inbox.next<{ callId: string; agentId: string; reconnectToken: string }>(
      'call:accepted',
    );
    expect(visitorSide).toEqual({
      callId: accepted.callId,
      agentId: agents.a1.agentId,
      reconnectToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const agentSide = await agent.inbox.next<{ reconnectToken: string }>('call:started');
    expect(agentSide).toEqual({
      call: {
        callId: accepted.callId,
        callLogId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        visitorId: visitor.visitorId,
        agentId: agents.a1.agentId,
        startedAt: expect.any(Number),
        endedAt: null,
      },
      visitor: {
        visitorId: visitor.visitorId,
        pageUrl: 'https://www.one.example/pricing/plans',
        connectedAt: expect.any(Number),
        location: null,
      },
      reconnectToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(agentSide.reconnectToken).not.toBe(visitorSide.reconnectToken);

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
    await ack(agent.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: offer });
    expect(await visitor.inbox.next('webrtc:signal')).toEqual({ targetId: agents.a1.agentId, signal: offer });
    const answer = { type: 'answer', sdp: 'v=0\r\n' };
    await ack(visitor.socket, 'webrtc:signal', { targetId: agents.a1.agentId, signal: answer });
    expect(await agent.inbox.next('webrtc:signal')).toEqual({ targetId: visitor.visitorId, signal: answer });

    expect(
      await ack(visitor.socket, 'call:heartbeat', {
        callId: accepted.callId,
        reconnectToken: visitorSide.reconnectToken,
      }),
    ).toEqual({ success: true });

    await ack(agent.socket, 'call:end', { callId: accepted.callId });
    expect(await visitor.inbox.next('call:ended')).toEqual({
      callId: accepted.callId,
      reason: 'agent_ended',
    });
    expect(await agent.inbox.next('call:ended')).toEqual({ callId: accepted.callId, reason: 'agent_ended' });
    // The agent is available again.
    expect(await ack(agent.socket, 'agent:status', { status: 'idle' })).toEqual({
      success: true,
      status: 'idle',
    });
  });
});
