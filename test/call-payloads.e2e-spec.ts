import { connected, disconnected } from './helpers/app';
import {
  ack,
  AgentClient,
  agentOnline,
  agents,
  Client,
  Inbox,
  joinVisitor,
  SALES_PAGE,
  settle,
  SignalingApp,
  startSignalingApp,
  VisitorClient,
} from './helpers/signaling';

/**
 * PROTOCOL §2: every payload is validated — unknown fields refused, ids 1–128 characters of
 * `[A-Za-z0-9._:-]`, pageUrl ≤ 2048, reason ≤ 200, reconnect tokens 64 lowercase hex, `signal` an
 * object ≤ 32 KiB of JSON — and a bad one gets `error {code: 'INVALID_PAYLOAD', event, details}`,
 * the ack `{success: false, error}`, and changes nothing. Each event is sent from a socket its
 * access rule lets through, so that the refusal is the validation's.
 */

/** Who sends: every event from a socket that passes its access guard. */
type Sender =
  | 'idleAgent' // a2: logged in, idle, its request ringing
  | 'callAgent' // a1: in the call
  | 'callVisitor' // the call's visitor
  | 'ringVisitor' // joined, its request ringing a2
  | 'freshSocket'; // connected, never joined

interface World {
  clients: Record<Sender, Client>;
  a1: AgentClient;
  a2: AgentClient;
  callVisitor: VisitorClient;
  ringVisitor: VisitorClient;
  requestId: string;
  callId: string;
  agentToken: string;
  visitorToken: string;
  /** How many events each client had received when the table started. */
  mark: Record<Sender, number>;
}

/** Emit with no argument at all (besides the ack). */
const NOTHING = Symbol('no payload');

interface Case {
  event: string;
  from: Sender;
  label: string;
  payload: (w: World) => unknown;
  /** The fields `details` must name exactly; absent for payloads that are not objects. */
  fields?: string[];
}

const NON_OBJECTS: [string, unknown][] = [
  ['a string', 'payload'],
  ['a number', 42],
  ['an array', ['x', { a: 1 }]],
  ['null', null],
];

const BAD_IDS: [string, unknown][] = [
  ['a number', 42],
  ['a boolean', true],
  ['an object', { id: 'x' }],
  ['empty', ''],
  ['a space', 'agent a1'],
  ['a slash', 'org/one'],
  ['markup', '<script>'],
  ['non-ASCII', 'agent_ä'],
  ['129 characters', 'a'.repeat(129)],
];

const TOKEN = 'ab'.repeat(32);
const BAD_TOKENS: [string, unknown][] = [
  ['a number', 42],
  ['null', null],
  ['empty', ''],
  ['uppercase hex', TOKEN.toUpperCase()],
  ['63 characters', TOKEN.slice(1)],
  ['65 characters', `${TOKEN}0`],
  ['not hex', 'g'.repeat(64)],
  ['padded', ` ${TOKEN.slice(1)}`],
];

const SIGNAL = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
const SNAPSHOT = {
  html: '<html><body>pricing</body></html>',
  url: 'https://www.one.example/pricing/plans',
  title: 'Plans',
  viewport: { width: 1280, height: 720 },
  timestamp: 1,
};
const LONG_URL = `https://www.one.example/pricing/${'a'.repeat(2048)}`;

/** Cases of one event: every field wrong in every way, each required field missing, an extra field, non-objects. */
function casesFor(
  event: string,
  from: Sender,
  base: (w: World) => Record<string, unknown>,
  fields: Record<string, { required: boolean; bad: [string, unknown][] }>,
): Case[] {
  const cases: Case[] = [];
  for (const [field, { required, bad }] of Object.entries(fields)) {
    for (const [what, value] of bad) {
      cases.push({
        event,
        from,
        label: `${field} is ${what}`,
        payload: (w) => ({ ...base(w), [field]: value }),
        fields: [field],
      });
    }
    if (required) {
      cases.push({
        event,
        from,
        label: `${field} is missing`,
        payload: (w) => {
          const payload = { ...base(w) };
          delete payload[field];
          return payload;
        },
        fields: [field],
      });
    }
  }
  const required = Object.keys(fields).filter((field) => fields[field].required);
  if (required.length > 0) {
    cases.push({ event, from, label: 'no payload at all', payload: () => NOTHING, fields: required });
    cases.push({ event, from, label: 'an empty object', payload: () => ({}), fields: required });
  }
  // A valid payload plus one unknown field: a whitelist that strips instead of refusing would act on it.
  cases.push({
    event,
    from,
    label: 'an extra field',
    payload: (w) => ({ ...base(w), extra: true }),
    fields: ['extra'],
  });
  for (const [what, value] of NON_OBJECTS)
    cases.push({ event, from, label: `${what} payload`, payload: () => value });
  return cases;
}

const optional = (bad: [string, unknown][]): { required: false; bad: [string, unknown][] } => ({
  required: false,
  bad,
});
const required = (bad: [string, unknown][]): { required: true; bad: [string, unknown][] } => ({
  required: true,
  bad,
});

const TABLE: Case[] = [
  ...casesFor('agent:status', 'idleAgent', () => ({ status: 'away' }), {
    status: required([
      ['a number', 1],
      ['null', null],
      ['unknown', 'busy'],
      ['uppercase', 'IDLE'],
      ['server-owned in_call', 'in_call'],
      ['server-owned in_simulation', 'in_simulation'],
    ]),
  }),
  ...casesFor('agent:away', 'idleAgent', () => ({ reason: 'manual' }), {
    reason: required([
      ['a number', 1],
      ['null', null],
      ['unknown', 'lunch'],
    ]),
  }),
  ...casesFor('heartbeat', 'idleAgent', () => ({ timestamp: 1_700_000_000_000 }), {
    timestamp: required([
      ['a string', '1700000000000'],
      ['null', null],
      ['a boolean', true],
      ['an object', {}],
    ]),
  }),
  ...casesFor('agent:logout', 'idleAgent', () => ({}), {}),
  ...casesFor('agent:back', 'idleAgent', () => ({}), {}),
  ...casesFor('visitor:join', 'freshSocket', () => ({ orgId: agents.a1.orgId, pageUrl: SALES_PAGE }), {
    orgId: required([...BAD_IDS, ['null', null]]),
    pageUrl: required([
      ['a number', 42],
      ['null', null],
      ['an object', { href: SALES_PAGE }],
      ['2049+ characters', LONG_URL],
    ]),
    visitorId: optional(BAD_IDS),
  }),
  ...casesFor('visitor:disconnect', 'ringVisitor', () => ({}), {}),
  ...casesFor('call:request', 'ringVisitor', () => ({ agentId: agents.a2.agentId }), {
    agentId: required([...BAD_IDS, ['null', null]]),
  }),
  ...casesFor('call:accept', 'idleAgent', (w) => ({ requestId: w.requestId }), {
    requestId: required([...BAD_IDS, ['null', null]]),
  }),
  ...casesFor('call:reject', 'idleAgent', (w) => ({ requestId: w.requestId, reason: 'busy' }), {
    requestId: required([...BAD_IDS, ['null', null]]),
    reason: optional([
      ['a number', 42],
      ['an object', { text: 'busy' }],
      ['201 characters', 'r'.repeat(201)],
    ]),
  }),
  ...casesFor('call:cancel', 'ringVisitor', (w) => ({ requestId: w.requestId }), {
    requestId: required([...BAD_IDS, ['null', null]]),
  }),
  ...(['callAgent', 'callVisitor'] as const).flatMap((from) => [
    ...casesFor('call:end', from, (w) => ({ callId: w.callId }), {
      callId: required([...BAD_IDS, ['null', null]]),
    }),
    ...casesFor(
      'call:heartbeat',
      from,
      (w) => ({ callId: w.callId, reconnectToken: from === 'callAgent' ? w.agentToken : w.visitorToken }),
      { callId: required([...BAD_IDS, ['null', null]]), reconnectToken: required(BAD_TOKENS) },
    ),
    ...casesFor(
      'call:reconnect',
      from,
      (w) =>
        from === 'callAgent'
          ? { reconnectToken: w.agentToken, role: 'agent' }
          : { reconnectToken: w.visitorToken, role: 'visitor' },
      {
        reconnectToken: required(BAD_TOKENS),
        // ('agent' from a visitor socket is the access guard's AUTH_REQUIRED, not a payload error.)
        role: required([
          ['unknown', 'admin'],
          ['uppercase', from === 'callAgent' ? 'AGENT' : 'VISITOR'],
          ['a number', 1],
          ['null', null],
        ]),
      },
    ),
    ...casesFor(
      'webrtc:signal',
      from,
      (w) => ({
        targetId: from === 'callAgent' ? w.callVisitor.visitorId : agents.a1.agentId,
        signal: SIGNAL,
      }),
      {
        targetId: required([...BAD_IDS, ['null', null]]),
        signal: required([
          ['a string', 'v=0'],
          ['a number', 42],
          ['an array', [SIGNAL]],
          ['null', null],
          ['over 32 KiB of JSON', { type: 'offer', sdp: 'a'.repeat(32 * 1024) }],
        ]),
      },
    ),
  ]),
  // The existing widget's other events (PROTOCOL §2.4).
  ...casesFor('widget:pageview', 'ringVisitor', () => ({ agentId: agents.a2.agentId }), {
    agentId: required([...BAD_IDS, ['null', null]]),
  }),
  ...casesFor('visitor:interaction', 'ringVisitor', () => ({ interactionType: 'click', timestamp: 1 }), {
    interactionType: required([
      ['a number', 1],
      ['null', null],
      ['empty', ''],
      ['65 characters', 'c'.repeat(65)],
    ]),
    timestamp: required([
      ['a string', '1700000000000'],
      ['null', null],
      ['negative', -1],
    ]),
  }),
  ...casesFor(
    'widget:missed_opportunity',
    'ringVisitor',
    () => ({ triggerDelaySeconds: 3, poolId: 'pool_sales' }),
    {
      triggerDelaySeconds: required([
        ['a string', '3'],
        ['null', null],
        ['negative', -1],
        ['over a day', 86_401],
      ]),
      // null is a valid poolId: the page matched no pool.
      poolId: required(BAD_IDS),
    },
  ),
  ...casesFor('cobrowse:snapshot', 'callVisitor', () => ({ ...SNAPSHOT }), {
    html: required([
      ['a number', 1],
      ['null', null],
      ['over 1 MiB - 4 KiB', 'h'.repeat(1024 * 1024 - 4 * 1024 + 1)],
    ]),
    url: required([
      ['a number', 1],
      ['2049 characters', LONG_URL.slice(0, 2049)],
    ]),
    title: required([
      ['null', null],
      ['1025 characters', 't'.repeat(1025)],
    ]),
    viewport: required([
      ['a string', '1280x720'],
      ['null', null],
    ]),
    timestamp: required([
      ['a string', '1'],
      ['negative', -1],
    ]),
  }),
  // Pointer, scroll and selection updates are free-form: only their shape and size are checked.
  ...['cobrowse:mouse', 'cobrowse:scroll', 'cobrowse:selection'].flatMap((event): Case[] => [
    ...NON_OBJECTS.map(([what, value]): Case => ({
      event,
      from: 'callVisitor',
      label: `${what} payload`,
      payload: () => value,
    })),
    {
      event,
      from: 'callVisitor',
      label: 'over 4 KiB',
      payload: () => ({ x: 1, y: 2, pad: 'p'.repeat(4 * 1024) }),
      fields: ['payload'],
    },
  ]),
  // Every other event is refused past 16 KiB before anything looks at its fields.
  ...(
    [
      ['heartbeat', 'idleAgent', { timestamp: 1 }],
      ['agent:status', 'idleAgent', { status: 'away' }],
      ['visitor:interaction', 'ringVisitor', { interactionType: 'click', timestamp: 1 }],
      ['call:end', 'callVisitor', { callId: 'call_x' }],
    ] as const
  ).map(([event, from, payload]): Case => ({
    event,
    from,
    label: 'over 16 KiB',
    payload: () => ({ ...payload, pad: 'p'.repeat(16 * 1024) }),
    fields: ['payload'],
  })),
];

interface ErrorEvent {
  code: string;
  message: string;
  event: string;
  details: { field: string; message: string }[];
}

describe('INVALID_PAYLOAD on every client event (e2e)', () => {
  let app: SignalingApp;
  const world = {} as World;

  // The table sends far more than the per-event budgets of PROTOCOL §6 allow; limits have their own suite.
  beforeAll(async () => {
    app = await startSignalingApp({ RATE_LIMIT_ENABLED: 'false' });
    world.a1 = await agentOnline(app, 'a1');
    world.a2 = await agentOnline(app, 'a2');

    // A call between a1 and a visitor.
    world.callVisitor = await joinVisitor(app);
    const call = await ack<{ requestId: string }>(world.callVisitor.socket, 'call:request', {
      agentId: agents.a1.agentId,
    });
    await world.a1.inbox.next('call:incoming');
    world.callId = (
      await ack<{ callId: string }>(world.a1.socket, 'call:accept', { requestId: call.requestId })
    ).callId;
    world.visitorToken = (
      await world.callVisitor.inbox.next<{ reconnectToken: string }>('call:accepted')
    ).reconnectToken;
    world.agentToken = (await world.a1.inbox.next<{ reconnectToken: string }>('call:started')).reconnectToken;

    // A request ringing a2 (kept ringing: the fixture's one-second ring timeout is stopped).
    world.ringVisitor = await joinVisitor(app);
    world.requestId = (
      await ack<{ requestId: string }>(world.ringVisitor.socket, 'call:request', {
        agentId: agents.a2.agentId,
      })
    ).requestId;
    await world.a2.inbox.next('call:incoming');
    const ringKey = `call:rna:${world.requestId}`;
    expect(app.scheduler.has(ringKey)).toBe(true);
    app.scheduler.cancel(ringKey);

    const fresh = app.connect();
    const freshClient = { socket: fresh, inbox: new Inbox(fresh) };
    await connected(fresh);

    world.clients = {
      idleAgent: world.a2,
      callAgent: world.a1,
      callVisitor: world.callVisitor,
      ringVisitor: world.ringVisitor,
      freshSocket: freshClient,
    };
    await settle();
    world.mark = Object.fromEntries(
      Object.entries(world.clients).map(([name, client]) => [name, client.inbox.received.length]),
    ) as Record<Sender, number>;
  });
  afterAll(() => app.close());

  it('covers every client event of PROTOCOL §2.1/§2.2/§2.4 but agent:login', () => {
    expect(new Set(TABLE.map((c) => c.event))).toEqual(
      new Set([
        'agent:logout',
        'agent:status',
        'agent:away',
        'agent:back',
        'heartbeat',
        'visitor:join',
        'visitor:disconnect',
        'call:request',
        'call:accept',
        'call:reject',
        'call:cancel',
        'call:end',
        'call:heartbeat',
        'call:reconnect',
        'webrtc:signal',
        'widget:pageview',
        'visitor:interaction',
        'widget:missed_opportunity',
        'cobrowse:snapshot',
        'cobrowse:mouse',
        'cobrowse:scroll',
        'cobrowse:selection',
      ]),
    );
  });

  it.each(TABLE.map((c) => [c.event, c.from, c.label, c] as const))(
    '%s from %s: %s → INVALID_PAYLOAD',
    async (event, from, _label, testCase) => {
      const client = world.clients[from];
      const before = Object.fromEntries(
        Object.entries(world.clients).map(([name, c]) => [name, c.inbox.received.length]),
      );
      const payload = testCase.payload(world);

      const response =
        payload === NOTHING ? await ack(client.socket, event) : await ack(client.socket, event, payload);
      expect(response).toEqual({
        success: false,
        error: { code: 'INVALID_PAYLOAD', message: expect.any(String) },
      });
      const error = await client.inbox.next<ErrorEvent>('error');
      expect(error).toEqual({
        code: 'INVALID_PAYLOAD',
        message: expect.any(String),
        event,
        details: expect.any(Array),
      });
      expect(error.details.length).toBeGreaterThan(0);
      for (const detail of error.details) {
        expect(detail).toEqual({ field: expect.any(String), message: expect.any(String) });
        expect(detail.message.length).toBeGreaterThan(0);
      }
      if (testCase.fields)
        expect(new Set(error.details.map((d) => d.field))).toEqual(new Set(testCase.fields));
      // The refused value is never echoed back.
      if (typeof payload === 'object' && payload !== null && 'signal' in payload)
        expect(JSON.stringify(error)).not.toContain('aaaaaaaa');

      // Only the sender heard anything, and only the refusal.
      for (const [name, c] of Object.entries(world.clients)) {
        const fresh = c.inbox.received.slice(before[name]).map((r) => r.event);
        expect([name, fresh]).toEqual([name, name === from ? ['error'] : []]);
      }
    },
  );

  it('sends the error event alone when the client asked for no ack', async () => {
    const { a2, callVisitor } = world;
    a2.socket.emit('call:accept', { requestId: 'req with spaces' });
    expect(await a2.inbox.next<ErrorEvent>('error')).toEqual({
      code: 'INVALID_PAYLOAD',
      message: expect.any(String),
      event: 'call:accept',
      details: [expect.objectContaining({ field: 'requestId' })],
    });
    callVisitor.socket.emit('webrtc:signal', { targetId: agents.a1.agentId, signal: 'not an object' });
    expect(await callVisitor.inbox.next<ErrorEvent>('error')).toEqual(
      expect.objectContaining({
        code: 'INVALID_PAYLOAD',
        event: 'webrtc:signal',
        details: [expect.objectContaining({ field: 'signal' })],
      }),
    );
  });

  it('changed nothing, and every socket still works afterwards', async () => {
    const { a1, a2, callVisitor, ringVisitor, callId, requestId } = world;
    const fresh = world.clients.freshSocket;
    await settle(200);
    // Nobody received anything during the whole table but the refusals sent to themselves.
    for (const [name, client] of Object.entries(world.clients)) {
      const received = client.inbox.received.slice(world.mark[name as Sender]).map((r) => r.event);
      expect([name, received.filter((event) => event !== 'error')]).toEqual([name, []]);
    }
    // No reconnect hold started (no `call:reconnect` got through and rotated or held anything).
    expect(app.scheduler.has(`call:reconnect:${callId}:agent`)).toBe(false);
    expect(app.scheduler.has(`call:reconnect:${callId}:visitor`)).toBe(false);

    // The call is alive and its tokens never rotated.
    expect(await ack(a1.socket, 'call:heartbeat', { callId, reconnectToken: world.agentToken })).toEqual({
      success: true,
    });
    expect(
      await ack(callVisitor.socket, 'call:heartbeat', { callId, reconnectToken: world.visitorToken }),
    ).toEqual({
      success: true,
    });
    // A signal just under 32 KiB is relayed.
    const big = { type: 'offer', sdp: 'a'.repeat(32 * 1024 - 64) };
    expect(await ack(a1.socket, 'webrtc:signal', { targetId: callVisitor.visitorId, signal: big })).toEqual({
      success: true,
    });
    expect(await callVisitor.inbox.next('webrtc:signal')).toEqual({
      targetId: agents.a1.agentId,
      signal: big,
    });

    // The request still rings a2, who is still logged in and idle.
    expect(await ack(a2.socket, 'call:accept', { requestId })).toEqual({
      success: true,
      callId: expect.any(String),
    });
    expect(await ringVisitor.inbox.next('call:accepted')).toEqual(
      expect.objectContaining({ agentId: agents.a2.agentId }),
    );

    expect(await ack(callVisitor.socket, 'call:end', { callId })).toEqual({ success: true });
    expect(await a1.inbox.next('call:ended')).toEqual({ callId, reason: 'visitor_ended' });

    // The socket that never joined joins now, with a 128-character id (the longest allowed).
    const longId = `v${'0'.repeat(127)}`;
    expect(
      await ack(fresh.socket, 'visitor:join', {
        orgId: agents.a1.orgId,
        pageUrl: SALES_PAGE,
        visitorId: longId,
      }),
    ).toEqual({
      success: true,
      visitorId: longId,
    });
    expect(await fresh.inbox.next('agent:assigned')).toEqual(
      expect.objectContaining({
        visitorId: longId,
        agent: expect.objectContaining({ id: agents.a1.agentId }),
      }),
    );
    const requested = await ack<{ success: boolean; requestId: string }>(fresh.socket, 'call:request', {
      agentId: agents.a1.agentId,
    });
    expect(requested.success).toBe(true);
    expect(await a1.inbox.next('call:incoming')).toEqual(
      expect.objectContaining({ request: expect.objectContaining({ requestId: requested.requestId }) }),
    );
    expect(
      await ack(a1.socket, 'call:reject', { requestId: requested.requestId, reason: 'r'.repeat(200) }),
    ).toEqual({
      success: true,
    });
    expect(await fresh.inbox.next('call:rejected')).toEqual({
      requestId: requested.requestId,
      reason: 'r'.repeat(200),
    });

    a1.socket.emit('heartbeat', { timestamp: Date.now() });
    expect(await ack(a1.socket, 'agent:away', { reason: 'manual' })).toEqual({
      success: true,
      status: 'away',
    });
    expect(await ack(a1.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    expect(await ack(a1.socket, 'agent:status', { status: 'idle' })).toEqual({
      success: true,
      status: 'idle',
    });
    expect(await ack(fresh.socket, 'visitor:disconnect')).toEqual({ success: true });
    // Logging out (a token refresh, for the existing dashboard) holds the call for the agent's return.
    expect(await ack(a2.socket, 'agent:logout')).toEqual({ success: true });
    expect(await ringVisitor.inbox.next('call:reconnecting')).toEqual(
      expect.objectContaining({ timeoutSeconds: 10 }),
    );
    expect(a1.socket.connected && a2.socket.connected && callVisitor.socket.connected).toBe(true);
  });
});

describe('the socket frame limit (e2e)', () => {
  let app: SignalingApp;

  beforeEach(async () => {
    app = await startSignalingApp();
  });
  afterEach(() => app.close());

  it('closes a connection that sends a frame over 1 MiB; other clients keep working', async () => {
    const a1 = await agentOnline(app, 'a1');
    const flooder = await joinVisitor(app);
    const other = await joinVisitor(app);
    expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });
    expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 2 });

    const closed = disconnected(flooder.socket);
    flooder.socket.emit('webrtc:signal', {
      targetId: agents.a1.agentId,
      signal: { type: 'offer', sdp: 'a'.repeat(1.1 * 1024 * 1024) },
    });
    expect(await closed).toEqual(expect.any(String));
    expect(flooder.socket.connected).toBe(false);
    // The server saw it leave: its agent's load dropped.
    expect(await a1.inbox.next('stats:update')).toEqual({ poolVisitors: 1 });

    // Everyone else is served as before.
    expect(a1.socket.connected && other.socket.connected).toBe(true);
    const requested = await ack<{ success: boolean; requestId: string }>(other.socket, 'call:request', {
      agentId: agents.a1.agentId,
    });
    expect(requested).toEqual({ success: true, requestId: expect.any(String) });
    expect(await a1.inbox.next('call:incoming')).toEqual(
      expect.objectContaining({ request: expect.objectContaining({ requestId: requested.requestId }) }),
    );
    const late = await joinVisitor(app);
    expect(late.visitorId).toEqual(expect.any(String));
    expect(a1.inbox.all('webrtc:signal')).toEqual([]);
  });
});
