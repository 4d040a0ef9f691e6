import { CallStore } from '../src/signaling/calls/call.store';
import {
  ack,
  agentOnline,
  expectIncoming,
  joinVisitor,
  requestCall,
  SignalingApp,
  startSignalingApp,
} from './helpers/signaling';

/**
 * `call:accept` when the step that claims the request and stores its call fails (a Redis outage,
 * or a reply lost on the way back): the agent never stays stuck "in a call" that does not exist,
 * and a call that was stored goes on. The failure is injected into the real store of the running
 * app, so everything around it — presence, routing, the acks and events — is the real thing.
 */
describe('call:accept when its claim fails (e2e)', () => {
  let app: SignalingApp;

  beforeEach(async () => {
    app = await startSignalingApp();
  });

  /** a1 online, a visitor joined, its request ringing a1; the app's real call store. */
  async function ringing() {
    const agent = await agentOnline(app, 'a1');
    const visitor = await joinVisitor(app);
    const requestId = await requestCall(visitor, agent.agentId);
    await expectIncoming(agent, requestId, visitor.visitorId);
    return { agent, visitor, requestId, store: app.app.get(CallStore) };
  }
  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
  });

  it('a claim that fails before writing answers INTERNAL_ERROR and leaves the agent free to accept again', async () => {
    const { agent, visitor, requestId, store } = await ringing();
    jest.spyOn(store, 'claim').mockRejectedValueOnce(new Error('Connection is closed.'));
    const failed = await ack<{ success: boolean; error: { code: string } }>(agent.socket, 'call:accept', {
      requestId,
    });
    expect(failed).toMatchObject({ success: false, error: { code: 'INTERNAL_ERROR' } });
    expect(await store.callOfAgent(agent.agentId)).toBeNull();

    // Entering the call was undone: the same request, still ringing, can be accepted now.
    const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
      requestId,
    });
    expect(accepted).toEqual({ success: true, callId: expect.any(String) });
    await visitor.inbox.next('call:accepted');
    await agent.inbox.next('call:started');
    expect((await store.callOfAgent(agent.agentId))?.callId).toBe(accepted.callId);
  });

  it('a claim whose reply is lost after it wrote goes on: the call it stored starts', async () => {
    const { agent, visitor, requestId, store } = await ringing();
    const claim = store.claim.bind(store);
    jest.spyOn(store, 'claim').mockImplementationOnce(async (...args) => {
      await claim(...args);
      throw new Error('Command timed out');
    });
    const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
      requestId,
    });
    expect(accepted).toEqual({ success: true, callId: expect.any(String) });
    const visitorSide = await visitor.inbox.next<{ callId: string; agentId: string }>('call:accepted');
    expect(visitorSide).toMatchObject({ callId: accepted.callId, agentId: agent.agentId });
    await agent.inbox.next('call:started');
    expect((await store.getCall(accepted.callId))?.requestId).toBe(requestId);
  });
});
