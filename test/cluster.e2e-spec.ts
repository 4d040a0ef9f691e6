import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'socket.io-client';
import request from 'supertest';
import { AGENT_VISITOR_CAPACITY } from '../src/signaling/routing/routing.service';
import {
  agentAt,
  AgentUser,
  bareAt,
  Cluster,
  CLUSTER_AGENTS_FILE,
  CLUSTER_ORG,
  CLUSTER_PAGE,
  CLUSTER_POOL,
  clusterAgents,
  Endpoint,
  eventually,
  inCluster,
  send,
  visitorAt,
} from './helpers/cluster';
import { connected, disconnected } from './helpers/app';
import { DATABASE_URL } from './helpers/databases';
import { mintHs256 } from './helpers/keys';
import { describeOnRedis, REDIS_URL } from './helpers/redis';
import {
  expectRelay,
  AgentClient,
  agents,
  BUILT_IN_WIDGET_SETTINGS,
  Client,
  Incoming,
  SALES_WIDGET_SETTINGS,
  settle,
  SIGNALING_AGENTS_FILE,
  VisitorClient,
} from './helpers/signaling';

/**
 * signalgate as a deployment: two or three real processes (src/main.ts) sharing one Redis and one
 * Postgres database, each client on the instance a load balancer would have given it. Every
 * scenario starts its own cluster (fresh keys, a fresh database) and, when it fails, the error
 * carries each server's log output.
 */

const SUITE = 'a cluster of signalgate instances (e2e: processes on Redis and Postgres)';
/** How long an event may take to cross instances on a machine that also runs the servers. */
const WAIT = 10_000;
const HEX64 = /^[0-9a-f]{64}$/;
const RETRY_MESSAGE = /^Too many failed login attempts\. Retry in \d+ s\.$/;
const CLUSTER_VISITOR = { orgId: CLUSTER_ORG, pageUrl: CLUSTER_PAGE };
const ROUTING_EVENTS = ['agent:assigned', 'agent:reassigned', 'agent:unavailable'];

interface Ack {
  success: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}
interface Token {
  callId: string;
  reconnectToken: string;
}
interface Assigned {
  agent: { id: string };
  visitorId: string;
}

const refused = (code: string): Ack => ({
  success: false,
  error: { code, message: expect.any(String) as string },
});

/** The profile a visitor is shown of a signaling-fixture agent. */
const A1_PROFILE = {
  id: agents.a1.agentId,
  displayName: 'A1 (sales tier 1)',
  avatarUrl: 'https://cdn.one.example/a1.png',
  waveVideoUrl: null,
  introVideoUrl: null,
  connectVideoUrl: null,
  loopVideoUrl: null,
};
const profileOf = (agent: AgentUser, displayName: string): Record<string, unknown> =>
  expect.objectContaining({ id: agent.agentId, displayName }) as Record<string, unknown>;

interface FileUser {
  userId: string;
  orgId?: string;
  role: string;
}
/** org_one's admin in the signaling directory (may revoke org_one's agents). */
const ORG_ONE_ADMIN = (
  JSON.parse(readFileSync(SIGNALING_AGENTS_FILE, 'utf8')) as { users: FileUser[] }
).users.find((user) => user.role === 'admin' && user.orgId === agents.a1.orgId)!;

/** `describeOnRedis`, and a real skip (with its reason printed) without DATABASE_URL: SQLite cannot be shared. */
function describeOnCluster(title: string, suite: () => void): void {
  if (REDIS_URL && !DATABASE_URL) {
    process.stdout.write(
      `${title}: skipped because DATABASE_URL is not set ` +
        '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test): instances cannot share SQLite\n',
    );
    describe.skip(`${title} (skipped: DATABASE_URL not set)`, suite);
    return;
  }
  describeOnRedis(title, suite);
}

/** The visitor asks for `agentId`; resolves with the request id from the ack. */
async function requestCall(visitor: Client, agentId: string): Promise<string> {
  const requested = await send<{ success: boolean; requestId: string }>(visitor.socket, 'call:request', {
    agentId,
  });
  expect(requested).toEqual({ success: true, requestId: expect.any(String) });
  return requested.requestId;
}

/** The agent's next `call:incoming` is this request, ringing this agent for this visitor. */
async function expectIncoming(agent: AgentClient, requestId: string, visitorId: string): Promise<void> {
  const incoming = await agent.inbox.next<Incoming>('call:incoming', WAIT);
  expect(incoming.request).toMatchObject({ requestId, agentId: agent.agentId, visitorId });
  expect(incoming.visitor.visitorId).toBe(visitorId);
}

interface CallSetup {
  callId: string;
  agentToken: string;
  visitorToken: string;
}

/** Request, ring and accept: a connected call between the two, with each side's reconnect token. */
async function startCall(agent: AgentClient, visitor: VisitorClient): Promise<CallSetup> {
  const requestId = await requestCall(visitor, agent.agentId);
  await expectIncoming(agent, requestId, visitor.visitorId);
  const accepted = await send<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
    requestId,
  });
  expect(accepted).toEqual({ success: true, callId: expect.any(String) });
  const visitorSide = await visitor.inbox.next<Token & { agentId: string }>('call:accepted', WAIT);
  expect(visitorSide).toEqual({
    callId: accepted.callId,
    agentId: agent.agentId,
    reconnectToken: expect.stringMatching(HEX64),
  });
  const agentSide = await agent.inbox.next<{ call: { callId: string }; reconnectToken: string }>(
    'call:started',
    WAIT,
  );
  expect(agentSide.call.callId).toBe(accepted.callId);
  return {
    callId: accepted.callId,
    agentToken: agentSide.reconnectToken,
    visitorToken: visitorSide.reconnectToken,
  };
}

/** Each party is told the call ended, and why. */
async function expectEnded(callId: string, reason: string, ...parties: Client[]): Promise<void> {
  for (const party of parties) expect(await party.inbox.next('call:ended', WAIT)).toEqual({ callId, reason });
}

/** A fresh socket's agent:login on `endpoint`; resolves with what the server answered first. */
async function loginAnswer(
  endpoint: Endpoint,
  payload: { agentId: string; token?: string },
  socket: Socket = endpoint.connect(),
): Promise<{ socket: Socket; answer: 'login:success' | Record<string, unknown> }> {
  await connected(socket, WAIT);
  const answer = await new Promise<'login:success' | Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to agent:login')), WAIT);
    socket.once('login:success', () => {
      clearTimeout(timer);
      resolve('login:success');
    });
    socket.once('error', (error: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(error);
    });
    socket.emit('agent:login', payload);
  });
  return { socket, answer };
}

/** The visitor has heard its routing outcome (assigned, or nobody free). */
const routed = (visitor: VisitorClient): boolean =>
  visitor.inbox.events().some((event) => event === 'agent:assigned' || event === 'agent:unavailable');

/** What a socket saw of its end, in order. */
function recordEnd(socket: Socket): string[] {
  const seen: string[] = [];
  socket.on('session:revoked', (payload: { message: string }) =>
    seen.push(`session:revoked ${payload.message}`),
  );
  socket.on('disconnect', (reason) => seen.push(`disconnect ${reason}`));
  return seen;
}

describeOnCluster(SUITE, () => {
  it(
    'an agent on A takes a call from a visitor on B: assignment, ring, accept, relay and end cross instances',
    () =>
      inCluster({ instances: 2 }, async (cluster: Cluster) => {
        const agent = await agentAt(cluster.at(0), agents.a1);
        const visitor = await visitorAt(cluster.at(1));

        const assigned = await visitor.inbox.next<{ visitorConnectedAt: number }>('agent:assigned', WAIT);
        expect(assigned).toEqual({
          agent: A1_PROFILE,
          visitorId: visitor.visitorId,
          widgetSettings: SALES_WIDGET_SETTINGS,
          visitorConnectedAt: expect.any(Number),
        });
        // The agent's dashboard figure counts the visitor that joined on the other instance.
        expect(await agent.inbox.next('stats:update', WAIT)).toEqual({ poolVisitors: 1 });

        const requestId = await requestCall(visitor, agents.a1.agentId);
        expect(await agent.inbox.next('call:incoming', WAIT)).toEqual({
          request: {
            requestId,
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

        const accepted = await send<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
          requestId,
        });
        expect(accepted).toEqual({ success: true, callId: expect.any(String) });
        const visitorSide = await visitor.inbox.next<Token>('call:accepted', WAIT);
        expect(visitorSide).toEqual({
          callId: accepted.callId,
          agentId: agents.a1.agentId,
          reconnectToken: expect.stringMatching(HEX64),
        });
        const agentSide = await agent.inbox.next<Token>('call:started', WAIT);
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
            connectedAt: assigned.visitorConnectedAt,
            location: null,
          },
          reconnectToken: expect.stringMatching(HEX64),
        });
        expect(agentSide.reconnectToken).not.toBe(visitorSide.reconnectToken);

        const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
        expect(
          await send(agent.socket, 'webrtc:signal', { targetId: visitor.visitorId, signal: offer }),
        ).toEqual({
          success: true,
        });
        expect(await visitor.inbox.next('webrtc:signal', WAIT)).toEqual({
          targetId: agents.a1.agentId,
          signal: offer,
        });
        const answer = { type: 'answer', sdp: 'v=0\r\n' };
        expect(
          await send(visitor.socket, 'webrtc:signal', { targetId: agents.a1.agentId, signal: answer }),
        ).toEqual({
          success: true,
        });
        expect(await agent.inbox.next('webrtc:signal', WAIT)).toEqual({
          targetId: visitor.visitorId,
          signal: answer,
        });
        expect(
          await send(visitor.socket, 'call:heartbeat', {
            callId: accepted.callId,
            reconnectToken: visitorSide.reconnectToken,
          }),
        ).toEqual({ success: true });

        expect(await send(agent.socket, 'call:end', { callId: accepted.callId })).toEqual({ success: true });
        await expectEnded(accepted.callId, 'agent_ended', visitor, agent);
        // The agent is available again, and the ended call is gone on both instances.
        expect(await send(agent.socket, 'agent:status', { status: 'idle' })).toEqual({
          success: true,
          status: 'idle',
        });
        expect(
          await send(visitor.socket, 'call:heartbeat', {
            callId: accepted.callId,
            reconnectToken: visitorSide.reconnectToken,
          }),
        ).toEqual(refused('CALL_NOT_FOUND'));
      }),
    120_000,
  );

  it(
    'ten tabs of one agent on two instances accept one request at once: exactly one call starts',
    () =>
      inCluster({ instances: 2, env: { AGENTS_FILE: CLUSTER_AGENTS_FILE } }, async (cluster) => {
        const tabs: AgentClient[] = [];
        for (let i = 0; i < 10; i += 1)
          tabs.push(await agentAt(cluster.at(i % 2), clusterAgents.c1, { available: false }));
        expect(await send(tabs[0].socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
        const visitor = await visitorAt(cluster.at(1), CLUSTER_VISITOR);
        expect(await visitor.inbox.next<Assigned>('agent:assigned', WAIT)).toMatchObject({
          agent: { id: clusterAgents.c1.agentId },
        });

        const requestId = await requestCall(visitor, clusterAgents.c1.agentId);
        for (const tab of tabs) await expectIncoming(tab, requestId, visitor.visitorId);

        const acks = await Promise.all(
          tabs.map((tab) => send<Ack & { callId?: string }>(tab.socket, 'call:accept', { requestId })),
        );
        const winners = acks.flatMap((response, i) => (response.success ? [i] : []));
        expect(winners).toHaveLength(1);
        const [won] = winners;
        expect(acks[won]).toEqual({ success: true, callId: expect.any(String) });
        expect(acks.filter((response) => !response.success)).toEqual(
          Array(9).fill(refused('CALL_NOT_FOUND')),
        );

        // The winning tab carries the call; the visitor is told once; every other tab stops ringing.
        const started = await tabs[won].inbox.next<{ call: { callId: string } }>('call:started', WAIT);
        expect(started.call.callId).toBe(acks[won].callId);
        expect(await visitor.inbox.next('call:accepted', WAIT)).toEqual({
          callId: acks[won].callId,
          agentId: clusterAgents.c1.agentId,
          reconnectToken: expect.stringMatching(HEX64),
        });
        for (const [i, tab] of tabs.entries()) {
          if (i === won) continue;
          expect(await tab.inbox.next('call:cancelled', WAIT)).toEqual({
            requestId,
            reason: 'answered_elsewhere',
          });
          expect(await tab.inbox.next('error', WAIT)).toEqual({
            code: 'CALL_NOT_FOUND',
            message: expect.any(String),
            event: 'call:accept',
          });
        }
        // Nothing more arrives late from either instance.
        await settle(500);
        expect(tabs.flatMap((tab) => tab.inbox.all('call:started'))).toHaveLength(1);
        expect(tabs[won].inbox.all('call:cancelled')).toEqual([]);
        expect(visitor.inbox.all('call:accepted')).toHaveLength(1);
      }),
    120_000,
  );

  it(
    '50 visitors joining through two instances at once for 5 agents: each assigned exactly once, nobody over capacity',
    () =>
      // visitor:join is limited per IP (10 a minute), and every visitor here comes from 127.0.0.1.
      inCluster(
        { instances: 2, env: { AGENTS_FILE: CLUSTER_AGENTS_FILE, RATE_LIMIT_ENABLED: 'false' } },
        async (cluster) => {
          const team = Object.values(clusterAgents);
          const online = await Promise.all(team.map((agent, i) => agentAt(cluster.at(i % 2), agent)));
          const visitors = await Promise.all(
            Array.from({ length: 50 }, (_, i) => visitorAt(cluster.at(i % 2), CLUSTER_VISITOR)),
          );
          expect(new Set(visitors.map((visitor) => visitor.visitorId)).size).toBe(50);
          await eventually(() => visitors.every(routed), 'every visitor to hear its agent', 30_000);
          // Every agent's figure reaches the 50 visitors of its pool, wherever they joined.
          await eventually(
            () => online.every((agent) => agent.inbox.all('stats:update').some((s) => s.poolVisitors === 50)),
            'poolVisitors 50 at every agent',
          );
          await settle(500);

          const load = new Map<string, number>();
          for (const visitor of visitors) {
            expect({
              visitor: visitor.visitorId,
              routing: visitor.inbox.events().filter((e) => ROUTING_EVENTS.includes(e)),
            }).toEqual({
              visitor: visitor.visitorId,
              routing: ['agent:assigned'],
            });
            const [assigned] = visitor.inbox.all<Assigned>('agent:assigned');
            expect(assigned).toEqual({
              agent: expect.objectContaining({ id: expect.any(String) }),
              visitorId: visitor.visitorId,
              widgetSettings: BUILT_IN_WIDGET_SETTINGS,
              visitorConnectedAt: expect.any(Number),
            });
            load.set(assigned.agent.id, (load.get(assigned.agent.id) ?? 0) + 1);
          }
          expect([...load.keys()].every((id) => team.some((agent) => agent.agentId === id))).toBe(true);
          expect([...load.values()].reduce((sum, n) => sum + n, 0)).toBe(50);
          expect(Math.max(...load.values())).toBeLessThanOrEqual(AGENT_VISITOR_CAPACITY);
        },
      ),
    150_000,
  );

  it(
    '60 visitors through two instances for 2 agents: exactly capacity each, the other 10 told nobody is free',
    () =>
      inCluster(
        { instances: 2, env: { AGENTS_FILE: CLUSTER_AGENTS_FILE, RATE_LIMIT_ENABLED: 'false' } },
        async (cluster) => {
          const pair = [clusterAgents.c1, clusterAgents.c2];
          await Promise.all(pair.map((agent, i) => agentAt(cluster.at(i), agent)));
          const visitors = await Promise.all(
            Array.from({ length: 60 }, (_, i) => visitorAt(cluster.at(i % 2), CLUSTER_VISITOR)),
          );
          await eventually(() => visitors.every(routed), 'every visitor to hear its routing', 30_000);
          await settle(500);

          const load = new Map<string, number>();
          const unavailable: VisitorClient[] = [];
          for (const visitor of visitors) {
            const routing = visitor.inbox.events().filter((e) => ROUTING_EVENTS.includes(e));
            expect(routing).toHaveLength(1);
            if (routing[0] === 'agent:unavailable') {
              unavailable.push(visitor);
              continue;
            }
            const [assigned] = visitor.inbox.all<Assigned>('agent:assigned');
            load.set(assigned.agent.id, (load.get(assigned.agent.id) ?? 0) + 1);
          }
          expect(Object.fromEntries(load)).toEqual({
            [clusterAgents.c1.agentId]: AGENT_VISITOR_CAPACITY,
            [clusterAgents.c2.agentId]: AGENT_VISITOR_CAPACITY,
          });
          expect(unavailable).toHaveLength(60 - 2 * AGENT_VISITOR_CAPACITY);
          for (const visitor of unavailable)
            expect(visitor.inbox.all('agent:unavailable')).toEqual([
              {
                visitorId: visitor.visitorId,
                widgetSettings: BUILT_IN_WIDGET_SETTINGS,
                poolId: CLUSTER_POOL,
                reason: 'no_agent_available',
              },
            ]);
        },
      ),
    150_000,
  );

  it(
    'the login failure budget is one for the cluster: failures alternating between instances trip it at its number',
    () =>
      inCluster({ instances: 2, env: { RATE_LIMIT_LOGIN_MAX: '4' } }, async (cluster) => {
        // Each failure claims another agent, so only the address's budget is spent.
        for (let i = 0; i < 4; i += 1) {
          const { socket, answer } = await loginAnswer(cluster.at(i % 2), {
            agentId: `agent_guess_${i}`,
            token: 'garbage',
          });
          expect({ attempt: i + 1, answer }).toEqual({
            attempt: i + 1,
            answer: expect.objectContaining({ code: 'AUTH_INVALID_TOKEN', event: 'agent:login' }),
          });
          socket.disconnect();
        }
        // The 5th on A (after two failures on each), and one more on B: both past the budget.
        for (const [attempt, instance] of [
          [5, 0],
          [6, 1],
        ]) {
          const { socket, answer } = await loginAnswer(cluster.at(instance), {
            agentId: `agent_guess_${attempt}`,
            token: 'garbage',
          });
          expect({ attempt, instance, answer }).toEqual({
            attempt,
            instance,
            answer: {
              code: 'RATE_LIMITED',
              message: expect.stringMatching(RETRY_MESSAGE),
              event: 'agent:login',
            },
          });
          socket.disconnect();
        }
        // Only failures count: a correct token signs in on either instance.
        for (const instance of [0, 1]) {
          const { socket, answer } = await loginAnswer(cluster.at(instance), {
            agentId: agents.a1.agentId,
            token: await mintHs256({ sub: agents.a1.userId }),
          });
          expect({ instance, answer }).toEqual({ instance, answer: 'login:success' });
          socket.disconnect();
        }
      }),
    120_000,
  );

  it(
    'every other budget of PROTOCOL §6 is one for the cluster: attempts alternating between instances trip it at its number',
    () =>
      inCluster(
        {
          instances: 2,
          env: { AGENTS_FILE: CLUSTER_AGENTS_FILE, RATE_LIMIT_HTTP_MAX: '6', RATE_LIMIT_METRICS_MAX: '4' },
        },
        async (cluster) => {
          const [A, B] = [cluster.at(0), cluster.at(1)];
          // One agent with a tab on each instance: its budgets are keyed by the agent, not the socket.
          const tabs = [await agentAt(A, clusterAgents.c1), await agentAt(B, clusterAgents.c1)];
          const limited = (answer: Ack): boolean => answer.error?.code === 'RATE_LIMITED';
          /** `limit` attempts alternating A/B pass; then one more on each instance is refused. */
          const trips = async (
            what: string,
            limit: number,
            /** True when the attempt was refused for its budget. */
            refused: (instance: number) => Promise<boolean>,
          ): Promise<void> => {
            const refusedWithin: number[] = [];
            for (let i = 0; i < limit; i += 1) if (await refused(i % 2)) refusedWithin.push(i + 1);
            const refusedAfter = [await refused(0), await refused(1)];
            expect({ what, refusedWithin, refusedAfter }).toEqual({
              what,
              refusedWithin: [],
              refusedAfter: [true, true],
            });
          };
          const agentEvent = (event: string, payload: unknown) => async (instance: number) =>
            limited(await send<Ack>(tabs[instance].socket, event, payload));

          await trips('agent:status (30 per agent)', 30, agentEvent('agent:status', { status: 'idle' }));
          await trips('call:reject (20 per agent)', 20, agentEvent('call:reject', { requestId: 'req_none' }));
          await trips(
            'webrtc:signal (600 per agent)',
            600,
            agentEvent('webrtc:signal', { targetId: 'visitor_none', signal: { type: 'offer', sdp: 'v=0' } }),
          );
          await trips(
            'call:heartbeat (any other event: 120 per agent)',
            120,
            agentEvent('call:heartbeat', { callId: 'call_none' }),
          );
          // visitor:join is counted per address: each join from a fresh socket, alternating.
          const joins: Socket[] = [];
          await trips('visitor:join (10 per IP)', 10, async (instance) => {
            const { socket } = await bareAt(cluster.at(instance));
            joins.push(socket);
            return limited(await send<Ack>(socket, 'visitor:join', CLUSTER_VISITOR));
          });
          joins.forEach((socket) => socket.disconnect());
          // HTTP, per address: /admin/* (and /auth/*), and /metrics, each its own budget.
          await trips('/admin/* (RATE_LIMIT_HTTP_MAX per IP)', 6, async (instance) => {
            const res = await request(cluster.url(instance)).get('/admin/audit/events');
            return res.status === 429;
          });
          await trips('/metrics (RATE_LIMIT_METRICS_MAX per IP)', 4, async (instance) => {
            const res = await request(cluster.url(instance)).get('/metrics');
            return res.status === 429;
          });
        },
      ),
    180_000,
  );

  it(
    'a ticket is single-use across instances, and a revocation sent to A ends the sessions on B and is enforced there at once',
    () =>
      inCluster({ instances: 2 }, async (cluster) => {
        const [A, B] = [cluster.at(0), cluster.at(1)];
        const token = await mintHs256({ sub: agents.a1.userId });
        const issue = async (instance: number): Promise<string> => {
          const res = await request(cluster.url(instance))
            .post('/auth/ws-ticket')
            .set('Authorization', `Bearer ${token}`);
          expect(res.status).toBe(200);
          expect(res.body).toEqual({ ticket: expect.any(String), expiresIn: 60 });
          return res.body.ticket as string;
        };

        // Issued and redeemed at agent:login on A; refused on B.
        const ticket = await issue(0);
        const onA = await loginAnswer(A, { agentId: agents.a1.agentId, token: ticket });
        expect(onA.answer).toBe('login:success');
        onA.socket.disconnect();
        const replayOnB = await loginAnswer(B, { agentId: agents.a1.agentId, token: ticket });
        expect(replayOnB.answer).toEqual(
          expect.objectContaining({ code: 'AUTH_INVALID_TOKEN', event: 'agent:login' }),
        );
        expect(replayOnB.socket.connected).toBe(true);
        replayOnB.socket.disconnect();

        // Issued by B, redeemed at A's handshake; refused at B's.
        const handshakeTicket = await issue(1);
        const viaHandshake = await loginAnswer(
          A,
          { agentId: agents.a1.agentId },
          A.connect({ query: { token: handshakeTicket } }),
        );
        expect(viaHandshake.answer).toBe('login:success');
        viaHandshake.socket.disconnect();
        const reused = B.connect({ query: { token: handshakeTicket } });
        await expect(connected(reused, WAIT)).rejects.toMatchObject({ data: { code: 'AUTH_INVALID_TOKEN' } });

        // One tab on A, two on B; the revocation is sent to A.
        const tabs = [
          await agentAt(A, agents.a1),
          await agentAt(B, agents.a1, { available: false }),
          await agentAt(B, agents.a1, { available: false }),
        ];
        const seen = tabs.map((tab) => recordEnd(tab.socket));
        const closed = tabs.map((tab) => disconnected(tab.socket, WAIT));
        const response = await request(cluster.url(0))
          .post(`/admin/agents/${agents.a1.agentId}/revoke`)
          .set('Authorization', `Bearer ${await mintHs256({ sub: ORG_ONE_ADMIN.userId })}`);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ revokedAt: expect.any(String), disconnected: 3 });
        expect(await Promise.all(closed)).toEqual(Array(3).fill('io server disconnect'));
        for (const events of seen)
          expect(events).toEqual([
            expect.stringMatching(/^session:revoked \S.*revoked/),
            'disconnect io server disconnect',
          ]);

        // B refuses the old token at once: agent:login, the ticket exchange and the handshake.
        const oldOnB = await loginAnswer(B, { agentId: agents.a1.agentId, token });
        expect(oldOnB.answer).toEqual(
          expect.objectContaining({ code: 'AUTH_REVOKED', event: 'agent:login' }),
        );
        oldOnB.socket.disconnect();
        const ticketOnB = await request(cluster.url(1))
          .post('/auth/ws-ticket')
          .set('Authorization', `Bearer ${token}`);
        expect(ticketOnB.status).toBe(401);
        expect(ticketOnB.body.code).toBe('AUTH_REVOKED');
        await expect(connected(B.connect({ auth: { token } }), WAIT)).rejects.toMatchObject({
          data: { code: 'AUTH_REVOKED' },
        });

        // A token issued after the revocation logs in on B, to a presence that did not survive it.
        const freshIat = Date.parse(response.body.revokedAt) / 1000 + 1;
        const fresh = await mintHs256({ sub: agents.a1.userId, iat: freshIat, exp: freshIat + 3600 });
        const again = await loginAnswer(B, { agentId: agents.a1.agentId, token: fresh });
        expect(again.answer).toBe('login:success');
        again.socket.disconnect();
      }),
    120_000,
  );

  it(
    'SIGKILL of the instance holding the agent of a call: the visitor on another is told within seconds, once, and the call ends after the grace',
    () =>
      // Three instances: both survivors look for the dead one, and exactly one takes it over.
      inCluster({ instances: 3 }, async (cluster) => {
        const agent = await agentAt(cluster.at(0), agents.a1);
        const visitor = await visitorAt(cluster.at(1));
        const call = await startCall(agent, visitor);
        await expectRelay(agent, agents.a1.agentId, visitor, visitor.visitorId, 'v=0 before the crash', WAIT);

        const killedAt = Date.now();
        await cluster.kill(0);
        // Noticed once the heartbeat (1.5 s) expired and a survivor's check (every 0.75 s) saw it.
        expect(await visitor.inbox.next('call:reconnecting', WAIT)).toEqual({
          callId: call.callId,
          message: expect.any(String),
          timeoutSeconds: 2,
        });
        const reconnectingAt = Date.now();
        expect(reconnectingAt - killedAt).toBeLessThan(6_000);

        expect(await visitor.inbox.next('call:reconnect_failed', WAIT)).toEqual({
          callId: call.callId,
          reason: 'timeout',
          message: expect.any(String),
        });
        expect(await visitor.inbox.next('call:ended', WAIT)).toEqual({
          callId: call.callId,
          reason: 'reconnect_failed',
        });
        // Not before the 1.5-second reconnect grace (less what delivery skew could shave off).
        expect(Date.now() - reconnectingAt).toBeGreaterThanOrEqual(1_200);
        expect(
          await send(visitor.socket, 'call:heartbeat', {
            callId: call.callId,
            reconnectToken: call.visitorToken,
          }),
        ).toEqual(refused('CALL_NOT_FOUND'));
        await settle(500);
        for (const event of ['call:reconnecting', 'call:reconnect_failed', 'call:ended'])
          expect({ event, times: visitor.inbox.all(event).length }).toEqual({ event, times: 1 });
      }),
    120_000,
  );

  it(
    'a ring started on A still times out when A is SIGKILLed: the next agent, on B, is rung',
    () =>
      // The instance heartbeat is long here, so that nothing but the ring's own (1-second) timer can
      // pass the request on: a takeover of A's sockets would pass it too, as agent_offline.
      inCluster({ instances: 2, env: { INSTANCE_HEARTBEAT_TTL_MS: '30000' } }, async (cluster) => {
        const a1 = await agentAt(cluster.at(0), agents.a1, { available: false });
        const a2 = await agentAt(cluster.at(1), agents.a2, { available: false });
        const visitor = await visitorAt(cluster.at(1));
        expect(await visitor.inbox.next('agent:unavailable', WAIT)).toMatchObject({
          reason: 'no_agent_available',
        });
        const requestId = await requestCall(visitor, agents.a1.agentId);
        expect(await visitor.inbox.next('agent:unavailable', WAIT)).toMatchObject({
          reason: 'no_agent_available',
        });

        // a1 becomes available on A: A greets the waiting visitor with it and rings it (A sets the timer).
        expect(await send(a1.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
        expect(await visitor.inbox.next('agent:assigned', WAIT)).toMatchObject({
          agent: profileOf(agents.a1, 'A1 (sales tier 1)'),
        });
        await expectIncoming(a1, requestId, visitor.visitorId);
        // a2 becomes available on B: the request rings a1, so nothing is offered to a2 yet.
        expect(await send(a2.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
        const killedAt = Date.now();
        await cluster.kill(0);

        expect(await visitor.inbox.next('agent:reassigned', WAIT)).toEqual({
          previousAgentId: agents.a1.agentId,
          newAgent: profileOf(agents.a2, 'A2 (sales tier 1)'),
          reason: 'ring_no_answer',
          widgetSettings: SALES_WIDGET_SETTINGS,
        });
        await expectIncoming(a2, requestId, visitor.visitorId);
        expect(Date.now() - killedAt).toBeLessThan(8_000);
        expect(a2.inbox.all('call:incoming')).toHaveLength(1);

        // The timer marked a1 away: a new tab of it, on B, says so.
        expect((await agentAt(cluster.at(1), agents.a1, { available: false })).state.status).toBe('away');
        // And the call goes on with a2.
        const accepted = await send<{ success: boolean; callId: string }>(a2.socket, 'call:accept', {
          requestId,
        });
        expect(accepted).toEqual({ success: true, callId: expect.any(String) });
        expect(await visitor.inbox.next('call:accepted', WAIT)).toEqual({
          callId: accepted.callId,
          agentId: agents.a2.agentId,
          reconnectToken: expect.stringMatching(HEX64),
        });
      }),
    120_000,
  );

  it(
    'a rolling restart keeps a call: each party reconnects to a live instance and resumes it with its reconnect token',
    () =>
      inCluster(
        {
          instances: 2,
          // Restarts take seconds: the call and the agent's presence wait for them.
          env: {
            AGENTS_FILE: CLUSTER_AGENTS_FILE,
            CALL_RECONNECT_GRACE_MS: '60000',
            AGENT_DISCONNECT_GRACE_MS: '60000',
          },
        },
        async (cluster) => {
          const c1 = clusterAgents.c1;
          const agent = await agentAt(cluster.at(0), c1);
          const visitor = await visitorAt(cluster.at(1), CLUSTER_VISITOR);
          const call = await startCall(agent, visitor);
          await expectRelay(agent, c1.agentId, visitor, visitor.visitorId, 'v=0 on A and B', WAIT);

          // ── Stop A. The agent's connection closes at the transport (a client would reconnect), and
          // the load balancer sends the reconnect to B.
          const agentDropped = disconnected(agent.socket, 30_000);
          const stoppingA = cluster.stop(0);
          expect(await agentDropped).toBe('transport close');
          expect(await visitor.inbox.next('call:reconnecting', WAIT)).toEqual({
            callId: call.callId,
            message: expect.any(String),
            timeoutSeconds: 60,
          });
          const agentOnB = await agentAt(cluster.at(1), c1, { available: false });
          expect(agentOnB.state.status).toBe('in_call');
          // The login alone resumes the call (the dashboard's refresh): the visitor gets a new token.
          expect(await visitor.inbox.next<Token>('call:reconnected', WAIT)).toEqual({
            callId: call.callId,
            reconnectToken: expect.stringMatching(HEX64),
            peerId: c1.agentId,
            agent: profileOf(c1, 'C1'),
          });
          expect(
            await send(agentOnB.socket, 'call:reconnect', { reconnectToken: call.agentToken, role: 'agent' }),
          ).toEqual({ success: true, callId: call.callId });
          const visitorToken = (await visitor.inbox.next<Token>('call:reconnected', WAIT)).reconnectToken;
          const agentSide = await agentOnB.inbox.next<Token>('call:reconnected', WAIT);
          expect(agentSide).toEqual({
            callId: call.callId,
            reconnectToken: expect.stringMatching(HEX64),
            peerId: visitor.visitorId,
          });
          await stoppingA;
          await expectRelay(agentOnB, c1.agentId, visitor, visitor.visitorId, 'v=0 both on B', WAIT);
          await expectRelay(visitor, visitor.visitorId, agentOnB, c1.agentId, 'v=0 answer on B', WAIT);

          // ── A comes back; stop B, where both parties are now. Both reconnect to A.
          await cluster.restart(0);
          const dropped = [disconnected(agentOnB.socket, 30_000), disconnected(visitor.socket, 30_000)];
          await cluster.stop(1);
          expect(await Promise.all(dropped)).toEqual(['transport close', 'transport close']);
          const A = cluster.at(0);

          const agentOnA = await agentAt(A, c1, { available: false });
          expect(agentOnA.state.status).toBe('in_call');
          // The visitor is still away: its token stays as it holds it, and only the agent is told.
          expect(
            await send(agentOnA.socket, 'call:reconnect', {
              reconnectToken: agentSide.reconnectToken,
              role: 'agent',
            }),
          ).toEqual({ success: true, callId: call.callId });
          expect(await agentOnA.inbox.next('call:reconnected', WAIT)).toEqual({
            callId: call.callId,
            reconnectToken: expect.stringMatching(HEX64),
            peerId: visitor.visitorId,
          });
          const visitorOnA = await bareAt(A);
          expect(
            await send(visitorOnA.socket, 'call:reconnect', {
              reconnectToken: visitorToken,
              role: 'visitor',
            }),
          ).toEqual({ success: true, callId: call.callId });
          expect(await visitorOnA.inbox.next('call:reconnected', WAIT)).toEqual({
            callId: call.callId,
            reconnectToken: expect.stringMatching(HEX64),
            peerId: c1.agentId,
            agent: profileOf(c1, 'C1'),
          });
          const agentToken = (await agentOnA.inbox.next<Token>('call:reconnected', WAIT)).reconnectToken;
          expect(
            await send(agentOnA.socket, 'call:heartbeat', {
              callId: call.callId,
              reconnectToken: agentToken,
            }),
          ).toEqual({ success: true });

          // Still the same call: signals relay, and it ends cleanly for both.
          await expectRelay(
            agentOnA,
            c1.agentId,
            visitorOnA,
            visitor.visitorId,
            'v=0 both on the new A',
            WAIT,
          );
          await expectRelay(
            visitorOnA,
            visitor.visitorId,
            agentOnA,
            c1.agentId,
            'v=0 answer on the new A',
            WAIT,
          );
          expect(await send(visitorOnA.socket, 'call:end', { callId: call.callId })).toEqual({
            success: true,
          });
          await expectEnded(call.callId, 'visitor_ended', visitorOnA, agentOnA);
          expect(await send(agentOnA.socket, 'agent:status', { status: 'idle' })).toEqual({
            success: true,
            status: 'idle',
          });
        },
      ),
    240_000,
  );

  it('Redis stopped and started during a call: /ready goes 503 and back, events are refused with a clear INTERNAL_ERROR, nobody exits, the call completes', async () => {
    // A Redis of this test's own, on a spare port, so that stopping it disturbs nobody else. It
    // keeps an append-only file (as production Redis should): the call survives its restart.
    const redis = await startOwnRedis();
    try {
      await inCluster({ instances: 2, redisUrl: redis.url }, async (cluster) => {
        const agent = await agentAt(cluster.at(0), agents.a1);
        const visitor = await visitorAt(cluster.at(1));
        await visitor.inbox.next('agent:assigned', WAIT);
        const call = await startCall(agent, visitor);

        await redis.stop();
        for (const i of [0, 1]) await eventuallyReady(cluster.url(i), 503);
        // A state-changing event is refused, saying what happened; the socket stays open.
        expect(await send(agent.socket, 'agent:status', { status: 'away' })).toEqual({
          success: false,
          error: {
            code: 'INTERNAL_ERROR',
            message: 'The service cannot reach its shared state right now; please retry.',
          },
        });
        expect(agent.socket.connected && visitor.socket.connected).toBe(true);

        await redis.start();
        for (const i of [0, 1]) await eventuallyReady(cluster.url(i), 200);
        // The same call, across the instances again: signals relay and it ends cleanly.
        await expectRelay(agent, agents.a1.agentId, visitor, visitor.visitorId, 'v=0 after the outage', WAIT);
        expect(await send(visitor.socket, 'call:end', { callId: call.callId })).toEqual({ success: true });
        for (const party of [visitor, agent])
          expect(await party.inbox.next('call:ended', WAIT)).toEqual({
            callId: call.callId,
            reason: 'visitor_ended',
          });
        for (const i of [0, 1]) expect(cluster.output(i)).toContain('redis (command) answers again');
      });
    } finally {
      await redis.stop();
      redis.dispose();
    }
  }, 120_000);
});

/** /ready answers `status` within a few seconds (polled). */
async function eventuallyReady(url: string, status: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await request(url).get('/ready')).status;
    if (last === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/ready answered ${last}, not ${status}, within 15 s`);
}

interface OwnRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): void;
}

/** `redis-server` on a spare port with an append-only file in a temp dir; stopped by its pid. */
async function startOwnRedis(): Promise<OwnRedis> {
  const port = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-redis-'));
  let child: ChildProcess | null = null;
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 10_000;
      while (!(await answers(port))) {
        if (Date.now() > deadline) throw new Error(`redis-server on :${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
  await own.start();
  return own;
}

function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
    });
    socket.once('error', () => resolve(false));
  });
}
