import { SOCKET_DEFAULT_LIMIT, SOCKET_EVENT_LIMITS } from '../src/common/throttling/socket-rate-limits';
import type { SecurityEvent } from '../src/common/security/security-event';
import { connected } from './helpers/app';
import { mintHs256 } from './helpers/keys';
import {
  ack,
  AgentClient,
  agentOnline,
  agents,
  Inbox,
  joinVisitor,
  SALES_PAGE,
  settle,
  SignalingApp,
  startSignalingApp,
  VisitorClient,
} from './helpers/signaling';

/**
 * PROTOCOL §6 per-event socket limits (`agent:login`'s failure budgets are in rate-limit.e2e-spec.ts;
 * its per-socket ceiling is here).
 * The limits come from the server's own table so that this suite follows it; the first test pins
 * the table to the numbers PROTOCOL §6 documents.
 */
const WINDOW_MS = 3000;
const limitOf = (event: string): number => SOCKET_EVENT_LIMITS[event] ?? SOCKET_DEFAULT_LIMIT;

interface Ack {
  success?: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}
interface ErrorPayload {
  code: string;
  message: string;
  event: string;
}

const isLimited = (response: Ack | undefined): boolean => response?.error?.code === 'RATE_LIMITED';

const SNAPSHOT = {
  html: '<html><body>pricing</body></html>',
  url: 'https://www.one.example/pricing/plans',
  title: 'Plans',
  viewport: { width: 1280, height: 720 },
};

/** Lazily built actors of one app, shared by the scenarios that run in it. */
class World {
  private readonly built = new Map<string, Promise<unknown>>();

  constructor(readonly app: SignalingApp) {}

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.built.has(key)) this.built.set(key, make());
    return this.built.get(key) as Promise<T>;
  }

  /** a1, logged in and left `away` (login spends no budget of the events it sends here). */
  agent(): Promise<AgentClient> {
    return this.once('agent', () => agentOnline(this.app, 'a1', { available: false }));
  }

  /** A visitor and the idle agent (a3) its `call:request`s name. */
  caller(): Promise<{ agent: AgentClient; visitor: VisitorClient }> {
    return this.once('caller', async () => {
      const agent = await agentOnline(this.app, 'a3');
      const visitor = await joinVisitor(this.app);
      return { agent, visitor };
    });
  }

  /** A connected call between a2 and a visitor, with each party's reconnect token. */
  call(): Promise<{
    agent: AgentClient;
    visitor: VisitorClient;
    callId: string;
    visitorToken: string;
  }> {
    return this.once('call', async () => {
      const agent = await agentOnline(this.app, 'a2');
      const visitor = await joinVisitor(this.app);
      const { requestId } = await ack<{ requestId: string }>(visitor.socket, 'call:request', {
        agentId: agent.agentId,
      });
      await agent.inbox.next('call:incoming');
      const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
        requestId,
      });
      if (!accepted.success) throw new Error(`call:accept refused: ${JSON.stringify(accepted)}`);
      const { reconnectToken } = await visitor.inbox.next<{ reconnectToken: string }>('call:accepted');
      return { agent, visitor, callId: accepted.callId, visitorToken: reconnectToken };
    });
  }
}

interface Sender {
  /** Sends the i-th event; resolves with its ack (undefined for an event without one). */
  send(i: number): Promise<Ack | undefined>;
  /** The inboxes that receive the sender's `error` events. */
  inboxes: Inbox[];
  /** How many sends had their visible effect, where there is one. */
  effects?: () => number;
  /** The agent the budget belongs to, when it is an agent's. */
  agentId?: string;
}

interface Scenario {
  event: string;
  /** Whether the events reach the server in the order they were sent (one socket). */
  ordered: boolean;
  /** A sender whose budget for `event` nothing has spent yet. */
  prepare(world: World): Promise<Sender>;
}

const agentEvent = (event: string, payload: (i: number) => unknown): Scenario => ({
  event,
  ordered: true,
  async prepare(world) {
    const agent = await world.agent();
    return {
      inboxes: [agent.inbox],
      agentId: agent.agentId,
      send: (i) => {
        const body = payload(i);
        return body === undefined ? ack<Ack>(agent.socket, event) : ack<Ack>(agent.socket, event, body);
      },
    };
  },
});

const scenarios: Scenario[] = [
  {
    // Per socket, every attempt: a login, then refreshes of it (no ack: login answers with events).
    event: 'agent:login',
    ordered: true,
    async prepare({ app }) {
      const socket = app.connect();
      const inbox = new Inbox(socket);
      await connected(socket);
      const token = await mintHs256({ sub: agents.a1.userId });
      return {
        inboxes: [inbox],
        // Logged in from the first attempt on: the refusal names the agent.
        agentId: agents.a1.agentId,
        send() {
          socket.emit('agent:login', { agentId: agents.a1.agentId, token });
          return Promise.resolve(undefined);
        },
        effects: () => inbox.all('login:success').length,
      };
    },
  },
  {
    // Keyed by IP: each join comes from a fresh socket that is no visitor yet.
    event: 'visitor:join',
    ordered: false,
    prepare({ app }) {
      const inboxes: Inbox[] = [];
      return Promise.resolve({
        inboxes,
        async send() {
          const socket = app.connect();
          inboxes.push(new Inbox(socket));
          await connected(socket);
          return ack<Ack>(socket, 'visitor:join', { orgId: agents.a1.orgId, pageUrl: SALES_PAGE });
        },
        // A processed join tells the visitor its agent (or that none is free) before its ack.
        effects: () =>
          inboxes.filter((inbox) =>
            inbox.events().some((event) => event === 'agent:assigned' || event === 'agent:unavailable'),
          ).length,
      });
    },
  },
  {
    event: 'call:request',
    ordered: true,
    async prepare(world) {
      const { agent, visitor } = await world.caller();
      // One after the other: a request replaced before it rang never rings, so concurrent ones
      // would not each show at the agent.
      let previous: Promise<unknown> = Promise.resolve();
      return {
        inboxes: [visitor.inbox],
        send() {
          const sent = previous.then(async () => {
            const response = await ack<Ack>(visitor.socket, 'call:request', { agentId: agent.agentId });
            // No ring-no-answer (1 s here): the agent stays idle, so every processed request rings it.
            if (typeof response.requestId === 'string')
              world.app.scheduler.cancel(`call:rna:${response.requestId}`);
            return response;
          });
          previous = sent;
          return sent;
        },
        effects: () => agent.inbox.all('call:incoming').length,
      };
    },
  },
  {
    event: 'call:cancel',
    ordered: true,
    async prepare(world) {
      const { visitor } = await world.caller();
      return {
        inboxes: [visitor.inbox],
        send: (i) => ack<Ack>(visitor.socket, 'call:cancel', { requestId: `missing-request-${i}` }),
      };
    },
  },
  agentEvent('call:accept', (i) => ({ requestId: `missing-request-${i}` })),
  agentEvent('call:reject', (i) => ({ requestId: `missing-request-${i}` })),
  agentEvent('call:end', (i) => ({ callId: `missing-call-${i}` })),
  agentEvent('agent:status', () => ({ status: 'away' })),
  agentEvent('agent:away', () => ({ reason: 'manual' })),
  agentEvent('agent:back', () => undefined),
  {
    event: 'webrtc:signal',
    ordered: true,
    async prepare(world) {
      const { agent, visitor } = await world.call();
      return {
        inboxes: [agent.inbox],
        agentId: agent.agentId,
        send: (i) =>
          ack<Ack>(agent.socket, 'webrtc:signal', {
            targetId: visitor.visitorId,
            signal: { type: 'candidate', candidate: `candidate:${i}` },
          }),
        effects: () => visitor.inbox.all('webrtc:signal').length,
      };
    },
  },
  ...(
    [
      ['cobrowse:snapshot', (i: number) => ({ ...SNAPSHOT, timestamp: i })],
      ['cobrowse:mouse', (i: number) => ({ x: i, y: i, timestamp: i })],
      ['cobrowse:scroll', (i: number) => ({ scrollX: 0, scrollY: i, timestamp: i })],
      ['cobrowse:selection', (i: number) => ({ text: `selected ${i}`, timestamp: i })],
    ] as const
  ).map(([event, payload]): Scenario => ({
    event,
    ordered: true,
    async prepare(world) {
      const { agent, visitor } = await world.call();
      return {
        inboxes: [visitor.inbox],
        send: (i) => ack<Ack>(visitor.socket, event, payload(i)),
        effects: () => agent.inbox.all(event).length,
      };
    },
  })),
  {
    event: 'visitor:interaction',
    ordered: true,
    async prepare(world) {
      const { visitor } = await world.caller();
      return {
        inboxes: [visitor.inbox],
        send: (i) =>
          ack<Ack>(visitor.socket, 'visitor:interaction', { interactionType: 'click', timestamp: i }),
      };
    },
  },
  {
    // Any other event: 120. `heartbeat` has no ack, so only a RATE_LIMITED error would show.
    event: 'heartbeat',
    ordered: true,
    async prepare(world) {
      const agent = await world.agent();
      return {
        inboxes: [agent.inbox],
        agentId: agent.agentId,
        send() {
          agent.socket.emit('heartbeat', { timestamp: Date.now() });
          return Promise.resolve(undefined);
        },
      };
    },
  },
  {
    event: 'call:heartbeat',
    ordered: true,
    async prepare(world) {
      const { visitor, callId, visitorToken } = await world.call();
      return {
        inboxes: [visitor.inbox],
        send: () => ack<Ack>(visitor.socket, 'call:heartbeat', { callId, reconnectToken: visitorToken }),
      };
    },
  },
];

function limitedErrors(sender: Sender, event: string): ErrorPayload[] {
  return sender.inboxes
    .flatMap((inbox) => inbox.all<ErrorPayload>('error'))
    .filter((error) => error.code === 'RATE_LIMITED' && error.event === event);
}

function blockedEvents(app: SignalingApp, event: string): SecurityEvent[] {
  return app.events.filter((e) => e.type === 'ratelimit.blocked' && e.target === event);
}

async function until(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(10);
  }
}

/** Sends `count` events at once (acks collected afterwards) and lets any stray response arrive. */
async function burst(sender: Sender, event: string, count: number): Promise<(Ack | undefined)[]> {
  const acks = await Promise.all(Array.from({ length: count }, (_, i) => sender.send(i)));
  await until(() => limitedErrors(sender, event).length > 0, `RATE_LIMITED on ${event}`);
  await settle();
  return acks;
}

/** Sends one more event after the burst and lets its effect arrive. */
async function sendOneMore(sender: Sender, index: number): Promise<Ack | undefined> {
  const response = await sender.send(index);
  await settle();
  return response;
}

describe('per-event socket rate limits (e2e)', () => {
  it('the table is PROTOCOL §6', () => {
    expect(SOCKET_EVENT_LIMITS).toEqual({
      'agent:login': 30,
      'visitor:join': 10,
      'call:request': 5,
      'call:accept': 20,
      'call:reject': 20,
      'call:cancel': 20,
      'call:end': 20,
      'agent:status': 30,
      'agent:away': 30,
      'agent:back': 30,
      'webrtc:signal': 600,
      'cobrowse:snapshot': 60,
      'cobrowse:mouse': 1500,
      'cobrowse:scroll': 300,
      'cobrowse:selection': 300,
      'visitor:interaction': 300,
    });
    expect(SOCKET_DEFAULT_LIMIT).toBe(120);
    // Every limited event has a scenario below, and so has the default.
    expect(
      scenarios
        .map((s) => s.event)
        .filter((e) => e in SOCKET_EVENT_LIMITS)
        .sort(),
    ).toEqual(Object.keys(SOCKET_EVENT_LIMITS).sort());
    expect(scenarios.filter((s) => !(s.event in SOCKET_EVENT_LIMITS)).length).toBeGreaterThan(0);
  });

  describe('each event’s limit', () => {
    let app: SignalingApp;
    beforeEach(async () => {
      app = await startSignalingApp({ RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });
    });
    afterEach(() => app.close());

    it.each(scenarios.map((scenario) => [scenario.event, limitOf(scenario.event), scenario] as const))(
      '%s: %i are processed, the next is RATE_LIMITED, not processed and recorded',
      async (event, limit, scenario) => {
        const sender = await scenario.prepare(new World(app));
        const acks = await burst(sender, event, limit + 1);

        expect(limitedErrors(sender, event)).toEqual([
          { code: 'RATE_LIMITED', message: expect.any(String), event },
        ]);
        if (acks.some((response) => response !== undefined)) {
          const limited = acks.flatMap((response, i) => (isLimited(response) ? [i] : []));
          // Exactly one refused: the last one sent, when they come over one socket.
          expect(limited).toEqual(scenario.ordered ? [limit] : [expect.any(Number)]);
          expect(acks[limited[0]]).toEqual({
            success: false,
            error: { code: 'RATE_LIMITED', message: expect.any(String) },
          });
          // The others were handled (some fail their own checks, such as CALL_NOT_FOUND).
          expect(acks.filter((response) => response !== undefined && !isLimited(response))).toHaveLength(
            limit,
          );
        }
        if (sender.effects) expect(sender.effects()).toBe(limit);

        const blocked = blockedEvents(app, event);
        expect(blocked).toHaveLength(1);
        expect(blocked[0]).toMatchObject({
          outcome: 'failure',
          reason: 'rate_limited',
          code: 'RATE_LIMITED',
          target: event,
          details: { scope: 'ws' },
        });
        if (sender.agentId) expect(blocked[0].actor).toMatchObject({ agentId: sender.agentId });
        else expect(blocked[0].actor).toBeUndefined();
      },
    );

    it('call:request over the limit rings nobody and creates no request', async () => {
      const world = new World(app);
      const { agent, visitor } = await world.caller();
      const sender = await scenarios.find((s) => s.event === 'call:request')!.prepare(world);
      const acks = await burst(sender, 'call:request', limitOf('call:request') + 1);
      const processed = acks.filter((response) => !isLimited(response)) as { requestId: string }[];
      expect(
        agent.inbox.all<{ request: { requestId: string } }>('call:incoming').map((i) => i.request.requestId),
      ).toEqual(processed.map((response) => response.requestId));
      // Had the refused one been processed, it would have replaced the last request: the agent
      // would have been told that one was cancelled. It still rings, and the agent can take it.
      const last = processed.at(-1)!.requestId;
      expect(agent.inbox.all('call:cancelled')).not.toContainEqual({ requestId: last });
      expect(visitor.inbox.all('error').filter((e) => e.code !== 'RATE_LIMITED')).toEqual([]);
      expect(await ack(agent.socket, 'call:accept', { requestId: last })).toEqual({
        success: true,
        callId: expect.any(String),
      });
    });

    it('webrtc:signal over the limit is not delivered', async () => {
      const world = new World(app);
      const { visitor } = await world.call();
      const sender = await scenarios.find((s) => s.event === 'webrtc:signal')!.prepare(world);
      const limit = limitOf('webrtc:signal');
      await burst(sender, 'webrtc:signal', limit + 1);
      const delivered = visitor.inbox
        .all<{ signal: { candidate: string } }>('webrtc:signal')
        .map((s) => s.signal.candidate);
      expect(delivered).toHaveLength(limit);
      expect(delivered).not.toContain(`candidate:${limit}`);
    });
  });

  it('every budget is processed again once its window has passed', async () => {
    const app = await startSignalingApp({ RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });
    try {
      const world = new World(app);
      // Spent budgets, all in one app so that one wait serves them all.
      const senders: [Scenario, Sender][] = [];
      for (const scenario of scenarios) senders.push([scenario, await scenario.prepare(world)]);
      for (const [scenario, sender] of senders) {
        const acks = await burst(sender, scenario.event, limitOf(scenario.event) + 1);
        // The world's own joins spent some of the IP's visitor:join budget already.
        if (scenario.ordered && acks[0] !== undefined) expect(isLimited(acks.at(-1))).toBe(true);
      }
      const before = new Map(senders.map(([scenario, sender]) => [scenario.event, sender.effects?.() ?? 0]));

      await settle(WINDOW_MS + 300);

      for (const [scenario, sender] of senders) {
        const { event } = scenario;
        const errorsBefore = limitedErrors(sender, event).length;
        const response = await sendOneMore(sender, limitOf(event) + 1);
        expect({ event, limited: isLimited(response) }).toEqual({ event, limited: false });
        expect({ event, newErrors: limitedErrors(sender, event).length - errorsBefore }).toEqual({
          event,
          newErrors: 0,
        });
        if (sender.effects)
          expect({ event, effects: sender.effects() }).toEqual({ event, effects: before.get(event)! + 1 });
      }
    } finally {
      await app.close();
    }
  });

  describe('budgets are per event and per key', () => {
    let app: SignalingApp;
    beforeEach(async () => {
      app = await startSignalingApp({ RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });
    });
    afterEach(() => app.close());

    it('a spent call:end budget does not touch call:heartbeat or webrtc:signal', async () => {
      const { agent, visitor, callId, visitorToken } = await new World(app).call();
      const limit = limitOf('call:end');
      const acks = await Promise.all(
        Array.from({ length: limit + 1 }, (_, i) =>
          ack<Ack>(visitor.socket, 'call:end', { callId: `missing-call-${i}` }),
        ),
      );
      expect(acks.map((response) => response.error?.code)).toEqual([
        ...Array<string>(limit).fill('CALL_NOT_FOUND'),
        'RATE_LIMITED',
      ]);

      expect(await ack(visitor.socket, 'call:heartbeat', { callId, reconnectToken: visitorToken })).toEqual({
        success: true,
      });
      expect(
        await ack(visitor.socket, 'webrtc:signal', { targetId: agent.agentId, signal: { type: 'answer' } }),
      ).toEqual({
        success: true,
      });
      expect(await agent.inbox.next('webrtc:signal')).toEqual({
        targetId: visitor.visitorId,
        signal: { type: 'answer' },
      });
      // The real call:end is refused while the budget is spent; the call goes on.
      expect(await ack<Ack>(visitor.socket, 'call:end', { callId })).toMatchObject({
        error: { code: 'RATE_LIMITED' },
      });
      await settle();
      expect(agent.inbox.all('call:ended')).toEqual([]);
    });

    it('two agents have their own budgets; an agent’s tabs share one', async () => {
      const limit = limitOf('agent:status');
      const a1 = await agentOnline(app, 'a1', { available: false });
      const a1Tab = await agentOnline(app, 'a1', { available: false });
      const a2 = await agentOnline(app, 'a2', { available: false });
      const status = (client: AgentClient): Promise<Ack> =>
        ack<Ack>(client.socket, 'agent:status', { status: 'away' });

      // a1's two tabs spend the same budget.
      const half = Math.floor(limit / 2);
      const a1Acks = await Promise.all([
        ...Array.from({ length: half }, () => status(a1)),
        ...Array.from({ length: limit - half }, () => status(a1Tab)),
      ]);
      expect(a1Acks.filter(isLimited)).toEqual([]);
      expect(await status(a1Tab)).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
      expect(await status(a1)).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });

      // a2 has its whole budget.
      const a2Acks = await Promise.all(Array.from({ length: limit }, () => status(a2)));
      expect(a2Acks).toEqual(Array<Ack>(limit).fill({ success: true, status: 'away' }));
      expect(await status(a2)).toMatchObject({ error: { code: 'RATE_LIMITED' } });

      expect(blockedEvents(app, 'agent:status').map((e) => e.actor?.agentId)).toEqual([
        agents.a1.agentId,
        agents.a1.agentId,
        agents.a2.agentId,
      ]);
    });

    it('two visitors on one IP have their own budgets', async () => {
      const limit = limitOf('call:request');
      await agentOnline(app, 'a1');
      const first = await joinVisitor(app);
      const second = await joinVisitor(app);
      const request = (visitor: VisitorClient): Promise<Ack> =>
        ack<Ack>(visitor.socket, 'call:request', { agentId: agents.a1.agentId });

      const firstAcks = await Promise.all(Array.from({ length: limit + 1 }, () => request(first)));
      expect(firstAcks.map(isLimited)).toEqual([...Array<boolean>(limit).fill(false), true]);

      const secondAcks = await Promise.all(Array.from({ length: limit }, () => request(second)));
      expect(secondAcks).toEqual(Array<Ack>(limit).fill({ success: true, requestId: expect.any(String) }));
      expect(await request(second)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    });

    it('re-joining on one socket spends one visitor:join budget (each join is a fresh visitor)', async () => {
      const limit = limitOf('visitor:join');
      const socket = app.connect();
      await connected(socket);
      const join = (): Promise<Ack> =>
        ack<Ack>(socket, 'visitor:join', { orgId: agents.a1.orgId, pageUrl: SALES_PAGE });
      const codes: string[] = [];
      for (let i = 0; i < limit + 1; i += 1) codes.push((await join()).error?.code ?? 'joined');
      // Keyed by the visitor each join creates, every re-join would start from a full budget.
      expect(codes).toEqual([...Array<string>(limit).fill('joined'), 'RATE_LIMITED']);
    });

    it('a socket that has not joined is keyed by its IP, until it joins', async () => {
      const limit = limitOf('call:request');
      await agentOnline(app, 'a1');
      const anonymous = app.connect();
      const anonymousInbox = new Inbox(anonymous);
      const other = app.connect();
      await Promise.all([connected(anonymous), connected(other)]);
      const request = (socket: typeof anonymous): Promise<Ack> =>
        ack<Ack>(socket, 'call:request', { agentId: agents.a1.agentId });

      const acks = await Promise.all(Array.from({ length: limit + 1 }, () => request(anonymous)));
      expect(acks.map((response) => response.error?.code)).toEqual([
        ...Array<string>(limit).fill('VISITOR_NOT_FOUND'),
        'RATE_LIMITED',
      ]);
      expect(anonymousInbox.all('error')).toContainEqual({
        code: 'RATE_LIMITED',
        message: expect.any(String),
        event: 'call:request',
      });
      // Another socket of the same address shares that budget…
      expect(await request(other)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      // …until it joins: then its own visitor budget counts.
      const joined = await ack<Ack>(other, 'visitor:join', { orgId: agents.a1.orgId, pageUrl: SALES_PAGE });
      expect(joined).toEqual({ success: true, visitorId: expect.any(String) });
      expect(await request(other)).toEqual({ success: true, requestId: expect.any(String) });
      // A joined visitor on the same address is not held back by the anonymous sockets either.
      const visitor = await joinVisitor(app);
      expect(await request(visitor.socket)).toEqual({ success: true, requestId: expect.any(String) });
    });
  });
});
