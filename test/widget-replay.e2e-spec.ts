import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { VisitorStore } from '../src/signaling/visitors/visitor.store';
import { connected, startApp, TestApp } from './helpers/app';
import { Exposition } from './helpers/exposition';
import { mintHs256 } from './helpers/keys';
import { ack, BUILT_IN_WIDGET_SETTINGS, Client, Inbox, settle } from './helpers/signaling';

/**
 * One session of the existing visitor widget (an unmodified build, recorded against an earlier
 * signalgate in development mode: test/fixtures/widget-session.json), replayed event by event with
 * the same payloads by socket.io-client, while a scripted agent plays the dashboard's part. Each
 * answer is the one the contract requires now: the widget's settings with the keys it reads, its
 * placeholder `call:cancel` stopping the agent's ringing, its analytics events taken silently.
 */
interface Recorded {
  from: 'widget' | 'server';
  event: string;
  payload: Record<string, unknown>;
}

const SESSION = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'widget-session.json'), 'utf8')) as {
  observed_against: string;
  events: Recorded[];
};

/** agent_ann of org_acme in config/agents.example.json, whom the recording was made with. */
const ANN = { userId: '00000000-0000-4000-8000-000000000001', agentId: 'agent_ann', orgId: 'org_acme' };

/** What a widget of org_acme is served: its settings (position, trigger_delay, theme) are the built-in ones. */
const ACME_WIDGET_SETTINGS = BUILT_IN_WIDGET_SETTINGS;

/** The recording's placeholders ("<epoch ms>") stand for numbers the widget sent. */
function withPlaceholders(payload: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(payload), (_key, value: unknown) =>
    value === '<epoch ms>' ? Date.now() : value,
  ) as Record<string, unknown>;
}

describe(`the existing widget's recorded session, replayed (${SESSION.observed_against})`, () => {
  let app: TestApp;
  let widget: Client;
  let agent: Client;

  beforeAll(async () => {
    app = await startApp();
    const agentSocket = app.connect();
    agent = { socket: agentSocket, inbox: new Inbox(agentSocket) };
    await connected(agentSocket);
    agentSocket.emit('agent:login', { agentId: ANN.agentId, token: await mintHs256({ sub: ANN.userId }) });
    await agent.inbox.next('login:success');
    expect(await ack(agentSocket, 'agent:back')).toEqual({ success: true, status: 'idle' });

    const widgetSocket = app.connect();
    widget = { socket: widgetSocket, inbox: new Inbox(widgetSocket) };
    await connected(widgetSocket);
  });
  afterAll(() => app.close());

  it('gets the answers the contract requires, event by event', async () => {
    let visitorId = '';
    let callId = '';
    let requests = 0;
    /** Events the agent's script already sent at their moment (the cancel while the agent rings). */
    const sentAhead = new Set<number>();
    const interactions = SESSION.events.filter(
      (e) => e.from === 'widget' && e.event === 'visitor:interaction',
    ).length;

    for (const [index, recorded] of SESSION.events.entries()) {
      const step = `#${index} ${recorded.from} ${recorded.event}`;
      const payload = withPlaceholders(recorded.payload);

      if (recorded.from === 'widget') {
        if (sentAhead.has(index)) continue;
        // The widget emits without acks; the answers, where there are any, are events.
        widget.socket.emit(recorded.event, payload);
        if (recorded.event === 'call:request') {
          requests += 1;
          const { request } = await agent.inbox.next<{ request: { requestId: string } }>('call:incoming');
          if (requests === 1) {
            const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
              requestId: request.requestId,
            });
            expect([step, accepted.success]).toEqual([step, true]);
            callId = accepted.callId;
          } else {
            // The second request is the one the widget cancels with its own placeholder id.
            const next = SESSION.events[index + 1];
            expect([next.event, String(next.payload.requestId)]).toEqual([
              'call:cancel',
              expect.stringMatching(/^pending_\d+$/),
            ]);
            widget.socket.emit(next.event, withPlaceholders(next.payload));
            sentAhead.add(index + 1);
            // The agent stops ringing: the server's own id, though the widget never learnt it.
            expect(await agent.inbox.next('call:cancelled')).toEqual({ requestId: request.requestId });
          }
        }
        if (recorded.event === 'webrtc:signal') {
          // The widget's answer and candidates reach the agent, from the visitor.
          expect([step, await agent.inbox.next('webrtc:signal')]).toEqual([
            step,
            { targetId: visitorId, signal: payload.signal },
          ]);
        }
        continue;
      }

      switch (recorded.event) {
        case 'agent:assigned': {
          const assigned = await widget.inbox.next<{ visitorId: string }>('agent:assigned');
          expect(assigned).toEqual({
            agent: recorded.payload.agent,
            visitorId: expect.stringMatching(/^visitor_/),
            widgetSettings: ACME_WIDGET_SETTINGS,
            visitorConnectedAt: expect.any(Number),
          });
          visitorId = assigned.visitorId;
          break;
        }
        case 'call:accepted':
          expect(await widget.inbox.next('call:accepted')).toEqual({
            callId,
            agentId: ANN.agentId,
            reconnectToken: expect.stringMatching(/^[0-9a-f]{64}$/),
          });
          break;
        case 'webrtc:signal': {
          // The agent's offer and candidates, as the dashboard sends them, reach the widget as recorded.
          const { signal } = recorded.payload;
          expect(await ack(agent.socket, 'webrtc:signal', { targetId: visitorId, signal })).toEqual({
            success: true,
          });
          expect([step, await widget.inbox.next('webrtc:signal')]).toEqual([step, recorded.payload]);
          break;
        }
        case 'call:ended':
          expect(await ack(agent.socket, 'call:end', { callId })).toEqual({ success: true });
          expect(await widget.inbox.next('call:ended')).toEqual({ callId, reason: 'agent_ended' });
          break;
        case 'error':
        case 'call:rejected':
        case 'agent:unavailable':
          // What went wrong in the recording: the refused cancel, and the agent left ringing
          // until it rejected. None of it happens now (checked once the replay is over).
          break;
        default:
          throw new Error(`${step}: the replay does not know this server event`);
      }
    }

    await settle(300);
    // Nothing the widget sent was refused, and nothing was answered that the widget does not expect.
    expect(widget.inbox.all('error')).toEqual([]);
    expect(widget.inbox.events()).toEqual([
      'agent:assigned',
      'call:accepted',
      ...Array<string>(
        SESSION.events.filter((e) => e.from === 'server' && e.event === 'webrtc:signal').length,
      ).fill('webrtc:signal'),
      'call:ended',
    ]);
    expect(agent.inbox.all('error')).toEqual([]);
    expect(agent.inbox.all('call:cancelled')).toHaveLength(1);

    // The analytics events were counted by organisation, and the clicks kept the visitor alive.
    const metrics = new Exposition((await request(app.url).get('/metrics').expect(200)).text);
    const counted = (event: string): number | undefined =>
      metrics.value('signalgate_widget_events_total', { org: ANN.orgId, event });
    expect(counted('widget:pageview')).toBe(1);
    expect(counted('visitor:interaction')).toBe(interactions);
    const visitor = await app.app.get(VisitorStore).get(visitorId);
    expect(visitor!.lastActivityAt).toBeGreaterThan(visitor!.connectedAt);
  });
});
