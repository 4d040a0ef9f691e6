import type { CallStore } from './call.store';
import type { CallRecord, CallRequestRecord, CallRole } from './call.types';

let sequence = 0;

function request(overrides: Partial<CallRequestRecord> = {}): CallRequestRecord {
  sequence += 1;
  return {
    requestId: `req_${sequence}`,
    visitorId: `visitor_${sequence}`,
    orgId: 'org_one',
    poolId: 'pool_sales',
    pageUrl: 'https://www.one.example/pricing',
    requestedAt: 1000 + sequence,
    agentId: null,
    ringSeq: 0,
    rejectedBy: [],
    passedBy: [],
    ...overrides,
  };
}

function call(overrides: Partial<CallRecord> = {}): CallRecord {
  sequence += 1;
  return {
    callId: `call_${sequence}`,
    callLogId: `log_${sequence}`,
    requestId: `req_${sequence}`,
    visitorId: `visitor_${sequence}`,
    agentId: `agent_${sequence}`,
    agentSocketId: `socket_${sequence}`,
    orgId: 'org_one',
    pageUrl: 'https://www.one.example/pricing',
    requestedAt: 900,
    startedAt: 1000,
    tokenHashes: { agent: `agent-hash-${sequence}`, visitor: `visitor-hash-${sequence}` },
    disconnectedAt: { agent: null, visitor: null },
    lastHeartbeatAt: 1000,
    ...overrides,
  };
}

const NEXT: Record<CallRole, string> = { agent: 'agent-hash-next', visitor: 'visitor-hash-next' };

/** A store under test, and how to throw it away afterwards. */
export interface CallStoreFixture {
  store: CallStore;
  dispose(): Promise<void>;
  /** True for a store other processes share (Redis): its calls outlive this process. */
  shared: boolean;
}

/**
 * The behaviour every CallStore shares (the port's JSDoc, case by case): run by the in-memory
 * store's spec and by the Redis store's integration spec, so both implementations answer alike.
 * `make` gives a fresh, empty store for each test.
 */
export function callStoreContract(make: () => Promise<CallStoreFixture>): void {
  let store: CallStore;
  let dispose: () => Promise<void>;
  let shared: boolean;

  beforeEach(async () => {
    ({ store, dispose, shared } = await make());
  });

  it('endingWithProcess: every call of a store in this process, none of a shared one', async () => {
    const first = call();
    const second = call();
    await store.createCall(first);
    await store.createCall(second);
    const ending = (await store.endingWithProcess()).map((record) => record.callId).sort();
    expect(ending).toEqual(shared ? [] : [first.callId, second.callId].sort());
  });

  afterEach(async () => {
    await dispose();
  });

  /** A request ringing `agentId` (ring once from waiting). */
  async function ringing(
    agentId: string,
    overrides: Partial<CallRequestRecord> = {},
  ): Promise<CallRequestRecord> {
    const stored = request(overrides);
    await store.putRequest(stored);
    return (await store.ring(stored.requestId, agentId))!;
  }

  describe('putRequest', () => {
    it('stores a request; the first one of a visitor replaces nothing', async () => {
      const first = request();
      expect(await store.putRequest(first)).toBeNull();
      expect(await store.getRequest(first.requestId)).toEqual(first);
      expect(await store.requestOfVisitor(first.visitorId)).toEqual(first);
    });

    it("replaces the visitor's previous request and returns it", async () => {
      const previous = await ringing('agent_a', { visitorId: 'visitor_v' });
      const other = request({ visitorId: 'visitor_other' });
      await store.putRequest(other);
      const next = request({ visitorId: 'visitor_v' });

      expect(await store.putRequest(next)).toEqual(previous);
      expect(await store.getRequest(previous.requestId)).toBeNull();
      expect(await store.requestOfVisitor('visitor_v')).toEqual(next);
      expect(await store.getRequest(other.requestId)).toEqual(other);
      expect(await store.ringing('agent_a')).toEqual([]);
      expect(await store.counts()).toEqual({ requests: 2, calls: 0 });
    });
  });

  describe('putRinging', () => {
    it('stores the request ringing the agent; the first one of a visitor replaces nothing', async () => {
      const stored = request();
      const { replaced, ringing: rung } = await store.putRinging(stored, 'agent_a');
      expect(replaced).toBeNull();
      expect(rung).toEqual({ ...stored, agentId: 'agent_a', ringSeq: 1 });
      expect(await store.getRequest(stored.requestId)).toEqual(rung);
      expect(await store.ringing('agent_a')).toEqual([rung]);
      expect(await store.waitingRequests('org_one')).toEqual([]);
      expect(await store.requestOfVisitor(stored.visitorId)).toEqual(rung);
    });

    it("replaces the visitor's previous request, returned as it was", async () => {
      const previous = await ringing('agent_a', { visitorId: 'visitor_v' });
      const next = request({ visitorId: 'visitor_v' });
      const result = await store.putRinging(next, 'agent_b');
      expect(result).toEqual({ replaced: previous, ringing: { ...next, agentId: 'agent_b', ringSeq: 1 } });
      expect(await store.getRequest(previous.requestId)).toBeNull();
      expect(await store.ringing('agent_a')).toEqual([]);
      expect(await store.ringing('agent_b')).toEqual([result.ringing]);
      expect(await store.counts()).toEqual({ requests: 1, calls: 0 });
    });
  });

  describe('ring', () => {
    it('rings an agent only while the request rings nobody, bumping ringSeq', async () => {
      const stored = request();
      await store.putRequest(stored);

      const rung = await store.ring(stored.requestId, 'agent_a');
      expect(rung).toEqual({ ...stored, agentId: 'agent_a', ringSeq: 1 });
      expect(await store.ringing('agent_a')).toEqual([rung]);
      expect(await store.waitingRequests('org_one')).toEqual([]);

      // Ringing someone already: moving it on takes a release first.
      expect(await store.ring(stored.requestId, 'agent_b')).toBeNull();
      expect(await store.ring(stored.requestId, 'agent_a')).toBeNull();
      expect(await store.getRequest(stored.requestId)).toEqual(rung);

      await store.release(stored.requestId, 'agent_a', 'passed');
      expect(await store.ring(stored.requestId, 'agent_b')).toMatchObject({ agentId: 'agent_b', ringSeq: 3 });
      expect(await store.ringing('agent_a')).toEqual([]);
    });

    it('two racing rings of one waiting request: exactly one wins', async () => {
      const stored = request();
      await store.putRequest(stored);
      const results = await Promise.all([
        store.ring(stored.requestId, 'agent_a'),
        store.ring(stored.requestId, 'agent_b'),
      ]);
      expect(results.filter((result) => result !== null)).toHaveLength(1);
      expect((await store.getRequest(stored.requestId))!.ringSeq).toBe(1);
    });

    it('returns null for an unknown request', async () => {
      expect(await store.ring('req_nobody', 'agent_a')).toBeNull();
    });
  });

  describe('release', () => {
    it('rejected: stops ringing and records the rejecter', async () => {
      const rung = await ringing('agent_a');
      const released = await store.release(rung.requestId, 'agent_a', 'rejected');
      expect(released).toEqual({
        ...rung,
        agentId: null,
        ringSeq: rung.ringSeq + 1,
        rejectedBy: ['agent_a'],
        passedBy: [],
      });
      expect(await store.getRequest(rung.requestId)).toEqual(released);
      expect(await store.ringing('agent_a')).toEqual([]);
    });

    it('passed: records the agent that did not answer, once', async () => {
      const rung = await ringing('agent_a');
      await store.release(rung.requestId, 'agent_a', 'passed');
      await store.ring(rung.requestId, 'agent_b');
      await store.release(rung.requestId, 'agent_b', 'passed');
      await store.ring(rung.requestId, 'agent_a');
      const released = await store.release(rung.requestId, 'agent_a', 'passed');
      expect(released).toMatchObject({ agentId: null, rejectedBy: [], passedBy: ['agent_a', 'agent_b'] });
    });

    it('only releases the agent the request rings', async () => {
      const rung = await ringing('agent_a');
      expect(await store.release(rung.requestId, 'agent_b', 'rejected')).toBeNull();
      expect(await store.getRequest(rung.requestId)).toEqual(rung);
      expect(await store.release('req_nobody', 'agent_a', 'passed')).toBeNull();
    });
  });

  describe('claim', () => {
    /** The call an accept of `rung` by `agentId` would create. */
    const callFor = (rung: CallRequestRecord, agentId: string): CallRecord =>
      call({ requestId: rung.requestId, visitorId: rung.visitorId, agentId });

    it('succeeds once for the ringing agent, removes the request and stores the call in the same step', async () => {
      const rung = await ringing('agent_a');
      const accepted = callFor(rung, 'agent_a');
      expect(await store.claim(rung.requestId, 'agent_a', accepted)).toEqual(rung);
      expect(await store.getCall(accepted.callId)).toEqual(accepted);
      expect(await store.callOfAgent('agent_a')).toEqual(accepted);
      expect(await store.claim(rung.requestId, 'agent_a', callFor(rung, 'agent_a'))).toBeNull();
      expect(await store.getRequest(rung.requestId)).toBeNull();
      expect(await store.requestOfVisitor(rung.visitorId)).toBeNull();
      expect(await store.counts()).toEqual({ requests: 0, calls: 1 });
    });

    it('refuses an agent the request does not ring, and a waiting request, storing no call', async () => {
      const rung = await ringing('agent_a');
      const intruder = callFor(rung, 'agent_b');
      expect(await store.claim(rung.requestId, 'agent_b', intruder)).toBeNull();
      expect(await store.getRequest(rung.requestId)).toEqual(rung);
      expect(await store.getCall(intruder.callId)).toBeNull();

      const waiting = request();
      await store.putRequest(waiting);
      expect(await store.claim(waiting.requestId, 'agent_a', callFor(waiting, 'agent_a'))).toBeNull();
      expect(await store.getRequest(waiting.requestId)).toEqual(waiting);
      expect(await store.counts()).toEqual({ requests: 2, calls: 0 });
    });

    it('two racing claims (two tabs): exactly one wins, and only its call exists', async () => {
      const rung = await ringing('agent_a');
      const attempts = [callFor(rung, 'agent_a'), callFor(rung, 'agent_a')];
      const results = await Promise.all(
        attempts.map((attempt) => store.claim(rung.requestId, 'agent_a', attempt)),
      );
      expect(results.filter((result) => result !== null)).toHaveLength(1);
      const winner = attempts[results.findIndex((result) => result !== null)];
      expect(await store.callOfAgent('agent_a')).toEqual(winner);
      expect(await store.counts()).toEqual({ requests: 0, calls: 1 });
    });
  });

  describe('withdraw', () => {
    it('removes the request only for the visitor who owns it', async () => {
      const rung = await ringing('agent_a', { visitorId: 'visitor_owner' });
      expect(await store.withdraw(rung.requestId, 'visitor_other')).toBeNull();
      expect(await store.getRequest(rung.requestId)).toEqual(rung);

      expect(await store.withdraw(rung.requestId, 'visitor_owner')).toEqual(rung);
      expect(await store.getRequest(rung.requestId)).toBeNull();
      expect(await store.withdraw(rung.requestId, 'visitor_owner')).toBeNull();
    });
  });

  describe('queries', () => {
    it('ringing and waitingRequests are per agent / organisation, oldest first', async () => {
      const late = await ringing('agent_a', { requestedAt: 300 });
      const early = await ringing('agent_a', { requestedAt: 100 });
      await ringing('agent_b', { requestedAt: 50 });
      const waitingLate = request({ requestedAt: 400 });
      const waitingEarly = request({ requestedAt: 200 });
      await store.putRequest(waitingLate);
      await store.putRequest(waitingEarly);
      await store.putRequest(request({ requestedAt: 1, orgId: 'org_two' }));

      expect((await store.ringing('agent_a')).map((r) => r.requestId)).toEqual([
        early.requestId,
        late.requestId,
      ]);
      expect((await store.waitingRequests('org_one')).map((r) => r.requestId)).toEqual([
        waitingEarly.requestId,
        waitingLate.requestId,
      ]);
    });

    it('requests asked at the same moment stay in the order they were stored', async () => {
      // Ids that sort otherwise than they were stored.
      const first = request({ requestId: 'req_tie_2', requestedAt: 500 });
      const second = request({ requestId: 'req_tie_1', requestedAt: 500 });
      const third = request({ requestId: 'req_tie_3', requestedAt: 500 });
      for (const stored of [first, second, third]) await store.putRequest(stored);
      // Ringing and released again: it keeps its place.
      await store.ring(second.requestId, 'agent_a');
      await store.release(second.requestId, 'agent_a', 'passed');
      expect((await store.waitingRequests('org_one')).map((r) => r.requestId)).toEqual([
        'req_tie_2',
        'req_tie_1',
        'req_tie_3',
      ]);

      // A replacing request is stored last.
      await store.putRequest(
        request({ requestId: 'req_tie_0', visitorId: first.visitorId, requestedAt: 500 }),
      );
      expect((await store.waitingRequests('org_one')).map((r) => r.requestId)).toEqual([
        'req_tie_1',
        'req_tie_3',
        'req_tie_0',
      ]);
      for (const requestId of ['req_tie_0', 'req_tie_3', 'req_tie_1']) await store.ring(requestId, 'agent_x');
      expect((await store.ringing('agent_x')).map((r) => r.requestId)).toEqual([
        'req_tie_1',
        'req_tie_3',
        'req_tie_0',
      ]);
    });

    it('an agent holding a call while in a newer one: the older is its call until it ends', async () => {
      const held = call({ agentId: 'agent_a', disconnectedAt: { agent: 10, visitor: null } });
      const newer = call({ agentId: 'agent_a' });
      await store.createCall(held);
      await store.createCall(newer);
      expect(await store.callOfAgent('agent_a')).toEqual(held);
      expect(await store.counts()).toEqual({ requests: 0, calls: 2 });

      await store.endCall(held.callId);
      expect(await store.callOfAgent('agent_a')).toEqual(newer);
      expect(await store.callOfVisitor(newer.visitorId)).toEqual(newer);
    });

    it('calls are found by id, agent and visitor; endCall ends once', async () => {
      const stored = call({ agentId: 'agent_a', visitorId: 'visitor_v' });
      await store.createCall(stored);
      expect(await store.getCall(stored.callId)).toEqual(stored);
      expect(await store.callOfAgent('agent_a')).toEqual(stored);
      expect(await store.callOfVisitor('visitor_v')).toEqual(stored);
      expect(await store.counts()).toEqual({ requests: 0, calls: 1 });

      expect(await store.endCall(stored.callId)).toEqual(stored);
      expect(await store.endCall(stored.callId)).toBeNull();
      expect(await store.callOfAgent('agent_a')).toBeNull();
      expect(await store.counts()).toEqual({ requests: 0, calls: 0 });
    });

    it('endCall with ifDisconnected ends the call only while that party is still away since `at`', async () => {
      const stored = call();
      await store.createCall(stored);
      await store.setDisconnected(stored.callId, 'agent', 100);

      // The other party, or another disconnection time: nothing ends.
      expect(await store.endCall(stored.callId, { role: 'visitor', at: 100 })).toBeNull();
      expect(await store.endCall(stored.callId, { role: 'agent', at: 99 })).toBeNull();
      // Back, then lost again: the timer of the first loss ends nothing.
      await store.setDisconnected(stored.callId, 'agent', null);
      expect(await store.endCall(stored.callId, { role: 'agent', at: 100 })).toBeNull();
      await store.setDisconnected(stored.callId, 'agent', 200);
      expect(await store.endCall(stored.callId, { role: 'agent', at: 100 })).toBeNull();
      expect(await store.getCall(stored.callId)).toMatchObject({
        disconnectedAt: { agent: 200, visitor: null },
      });

      expect(await store.endCall(stored.callId, { role: 'agent', at: 200 })).toMatchObject({
        callId: stored.callId,
      });
      expect(await store.getCall(stored.callId)).toBeNull();
      expect(await store.endCall('call_nobody', { role: 'agent', at: 200 })).toBeNull();
    });

    it('setDisconnected and touchCall update the call', async () => {
      const stored = call();
      await store.createCall(stored);
      expect(await store.setDisconnected(stored.callId, 'visitor', 77)).toMatchObject({
        disconnectedAt: { agent: null, visitor: 77 },
      });
      await store.touchCall(stored.callId, 88);
      expect(await store.getCall(stored.callId)).toMatchObject({
        disconnectedAt: { agent: null, visitor: 77 },
        lastHeartbeatAt: 88,
      });
      expect(await store.setDisconnected(stored.callId, 'visitor', null)).toMatchObject({
        disconnectedAt: { agent: null, visitor: null },
      });
      expect(await store.setDisconnected('call_nobody', 'agent', 1)).toBeNull();
    });

    it('setDisconnected with ifUnchanged holds a party only if the call is as it was read', async () => {
      const stored = call({ agentSocketId: 'sock_old' });
      await store.createCall(stored);
      const asRead = { tokenHash: stored.tokenHashes.agent, agentSocketId: 'sock_old' };
      // The agent resumed elsewhere meanwhile: a new socket (the token rotated with it).
      await store.spendToken({
        tokenHash: stored.tokenHashes.agent,
        role: 'agent',
        next: { agent: 'agent-next', visitor: 'visitor-next' },
        agentId: stored.agentId,
        agentSocketId: 'sock_new',
      });
      expect(await store.setDisconnected(stored.callId, 'agent', 5, asRead)).toBeNull();
      expect(await store.getCall(stored.callId)).toMatchObject({
        agentSocketId: 'sock_new',
        disconnectedAt: { agent: null, visitor: null },
      });
      // The visitor's token rotated too: a late visitor disconnect read before is refused as well.
      const visitorAsRead = { tokenHash: stored.tokenHashes.visitor, agentSocketId: 'sock_new' };
      expect(await store.setDisconnected(stored.callId, 'visitor', 6, visitorAsRead)).toBeNull();
      // As read now, it holds.
      const current = { tokenHash: 'agent-next', agentSocketId: 'sock_new' };
      expect(await store.setDisconnected(stored.callId, 'agent', 7, current)).toMatchObject({
        agentSocketId: null,
        disconnectedAt: { agent: 7, visitor: null },
      });
      // The agent's socket is only compared for the agent's side.
      const visitorNow = { tokenHash: 'visitor-next', agentSocketId: 'sock_whatever' };
      expect(await store.setDisconnected(stored.callId, 'visitor', 8, visitorNow)).toMatchObject({
        disconnectedAt: { agent: 7, visitor: 8 },
      });
    });
  });

  describe('spendToken', () => {
    /** A call of agent_a whose parties hold `agent-hash` and `visitor-hash`. */
    async function stored(disconnectedAt: CallRecord['disconnectedAt']): Promise<CallRecord> {
      const record = call({
        agentId: 'agent_a',
        tokenHashes: { agent: 'agent-hash', visitor: 'visitor-hash' },
        disconnectedAt,
      });
      await store.createCall(record);
      return record;
    }

    it("rotates both hashes when the peer is connected, and marks the spender's role connected", async () => {
      const record = await stored({ agent: null, visitor: 60 });
      const spent = await store.spendToken({ tokenHash: 'visitor-hash', role: 'visitor', next: NEXT });
      expect(spent).toEqual({ ...record, tokenHashes: NEXT, disconnectedAt: { agent: null, visitor: null } });
      expect(await store.getCall(record.callId)).toEqual(spent);
    });

    it("keeps a disconnected peer's hash (it could not learn a new token) and its disconnectedAt", async () => {
      const record = await stored({ agent: 50, visitor: 60 });
      const spent = await store.spendToken({ tokenHash: 'visitor-hash', role: 'visitor', next: NEXT });
      expect(spent).toEqual({
        ...record,
        tokenHashes: { agent: 'agent-hash', visitor: NEXT.visitor },
        disconnectedAt: { agent: 50, visitor: null },
      });
      // The peer comes back with the token it holds; now both rotate.
      const next = { agent: 'agent-hash-3', visitor: 'visitor-hash-3' };
      expect(
        await store.spendToken({ tokenHash: 'agent-hash', role: 'agent', next, agentId: 'agent_a' }),
      ).toEqual({
        ...record,
        tokenHashes: next,
        disconnectedAt: { agent: null, visitor: null },
      });
    });

    it('is single use: a spent hash is refused afterwards, and so is an old one of the peer', async () => {
      const record = await stored({ agent: null, visitor: null });
      expect(
        await store.spendToken({ tokenHash: 'agent-hash', role: 'agent', next: NEXT, agentId: 'agent_a' }),
      ).not.toBeNull();
      expect(
        await store.spendToken({
          tokenHash: 'agent-hash',
          role: 'agent',
          next: { agent: 'x', visitor: 'y' },
          agentId: 'agent_a',
        }),
      ).toBeNull();
      expect(
        await store.spendToken({
          tokenHash: 'visitor-hash',
          role: 'visitor',
          next: { agent: 'x', visitor: 'y' },
        }),
      ).toBeNull();
      expect((await store.getCall(record.callId))!.tokenHashes).toEqual(NEXT);
      // The rotated ones are the ones that work now.
      expect(
        await store.spendToken({
          tokenHash: NEXT.visitor,
          role: 'visitor',
          next: { agent: 'a2', visitor: 'v2' },
        }),
      ).toMatchObject({
        tokenHashes: { agent: 'a2', visitor: 'v2' },
      });
    });

    it("is bound to its role: one party's token does not work as the other's", async () => {
      const record = await stored({ agent: 50, visitor: 60 });
      expect(await store.spendToken({ tokenHash: 'visitor-hash', role: 'agent', next: NEXT })).toBeNull();
      expect(await store.spendToken({ tokenHash: 'agent-hash', role: 'visitor', next: NEXT })).toBeNull();
      expect(await store.getCall(record.callId)).toEqual(record);
    });

    it('is bound to the call’s agent when an agentId is given', async () => {
      const record = await stored({ agent: 50, visitor: null });
      expect(
        await store.spendToken({
          tokenHash: 'agent-hash',
          role: 'agent',
          next: NEXT,
          agentId: 'agent_other',
        }),
      ).toBeNull();
      expect(await store.getCall(record.callId)).toEqual(record);
      expect(
        await store.spendToken({ tokenHash: 'agent-hash', role: 'agent', next: NEXT, agentId: 'agent_a' }),
      ).toMatchObject({
        tokenHashes: NEXT,
        disconnectedAt: { agent: null, visitor: null },
      });
    });

    it('finds the call the token belongs to among several', async () => {
      const record = await stored({ agent: null, visitor: null });
      const other = call({ tokenHashes: { agent: 'other-agent-hash', visitor: 'other-visitor-hash' } });
      await store.createCall(other);
      expect(
        await store.spendToken({ tokenHash: 'other-visitor-hash', role: 'visitor', next: NEXT }),
      ).toMatchObject({
        callId: other.callId,
      });
      expect(await store.getCall(record.callId)).toEqual(record);
      expect(await store.spendToken({ tokenHash: 'unknown-hash', role: 'visitor', next: NEXT })).toBeNull();
    });

    it('two racing spends of one token: exactly one wins', async () => {
      await stored({ agent: null, visitor: 60 });
      const results = await Promise.all([
        store.spendToken({
          tokenHash: 'visitor-hash',
          role: 'visitor',
          next: { agent: 'a1', visitor: 'v1' },
        }),
        store.spendToken({
          tokenHash: 'visitor-hash',
          role: 'visitor',
          next: { agent: 'a2', visitor: 'v2' },
        }),
      ]);
      expect(results.filter((result) => result !== null)).toHaveLength(1);
    });

    it('keeps its own copy of the next hashes', async () => {
      const record = await stored({ agent: null, visitor: null });
      const next = { ...NEXT };
      await store.spendToken({ tokenHash: 'visitor-hash', role: 'visitor', next });
      next.visitor = 'mutated';
      next.agent = 'mutated';
      expect((await store.getCall(record.callId))!.tokenHashes).toEqual(NEXT);
    });
  });

  describe('the agent socket that carries a call', () => {
    it('is forgotten when the agent side is lost, and kept when the visitor side is', async () => {
      const stored = call({ agentSocketId: 'socket_tab1' });
      await store.createCall(stored);
      expect(await store.setDisconnected(stored.callId, 'visitor', 5)).toMatchObject({
        agentSocketId: 'socket_tab1',
      });
      expect(await store.setDisconnected(stored.callId, 'agent', 6)).toMatchObject({
        agentSocketId: null,
        disconnectedAt: { agent: 6, visitor: 5 },
      });
    });

    it("moves to the socket that spent the agent's token", async () => {
      const stored = call({
        agentId: 'agent_a',
        tokenHashes: { agent: 'agent-hash', visitor: 'visitor-hash' },
      });
      await store.createCall(stored);
      await store.setDisconnected(stored.callId, 'agent', 7);
      expect(
        await store.spendToken({
          tokenHash: 'agent-hash',
          role: 'agent',
          next: NEXT,
          agentId: 'agent_a',
          agentSocketId: 'socket_tab2',
        }),
      ).toMatchObject({ agentSocketId: 'socket_tab2', disconnectedAt: { agent: null, visitor: null } });
    });

    it("reattachAgent marks a held agent side connected, carried by no tab yet, rotating the visitor's token", async () => {
      const stored = call({ tokenHashes: { agent: 'agent-hash', visitor: 'visitor-hash' } });
      await store.createCall(stored);
      // The agent is connected: nothing to reattach.
      expect(await store.reattachAgent(stored.callId, 'visitor-next')).toBeNull();
      expect(await store.getCall(stored.callId)).toEqual(stored);

      await store.setDisconnected(stored.callId, 'agent', 8);
      expect(await store.reattachAgent(stored.callId, 'visitor-next')).toEqual({
        ...stored,
        agentSocketId: null,
        // The agent's token is the one it holds: a follow-up call:reconnect still works.
        tokenHashes: { agent: 'agent-hash', visitor: 'visitor-next' },
        disconnectedAt: { agent: null, visitor: null },
      });
      // Once: the agent side is connected again.
      expect(await store.reattachAgent(stored.callId, 'visitor-x')).toBeNull();
      expect(await store.reattachAgent('call_nobody', 'visitor-x')).toBeNull();
    });

    it("reattachAgent keeps a disconnected visitor's token (it could not learn a new one)", async () => {
      const stored = call({ tokenHashes: { agent: 'agent-hash', visitor: 'visitor-hash' } });
      await store.createCall(stored);
      await store.setDisconnected(stored.callId, 'visitor', 3);
      await store.setDisconnected(stored.callId, 'agent', 4);
      expect(await store.reattachAgent(stored.callId, 'visitor-next')).toMatchObject({
        tokenHashes: { agent: 'agent-hash', visitor: 'visitor-hash' },
        disconnectedAt: { agent: null, visitor: 3 },
      });
    });

    it('bindAgentSocket gives an unclaimed call to the first socket, once', async () => {
      const stored = call({ agentSocketId: 'socket_tab1' });
      await store.createCall(stored);
      // Carried already: nothing changes.
      expect(await store.bindAgentSocket(stored.callId, 'socket_tab2')).toMatchObject({
        agentSocketId: 'socket_tab1',
      });
      // Held: nobody may claim it but through a reconnect or a login.
      await store.setDisconnected(stored.callId, 'agent', 9);
      expect(await store.bindAgentSocket(stored.callId, 'socket_tab2')).toMatchObject({
        agentSocketId: null,
      });
      await store.reattachAgent(stored.callId, 'visitor-next');
      const [first, second] = await Promise.all([
        store.bindAgentSocket(stored.callId, 'socket_tab2'),
        store.bindAgentSocket(stored.callId, 'socket_tab3'),
      ]);
      expect([first!.agentSocketId, second!.agentSocketId]).toEqual(['socket_tab2', 'socket_tab2']);
      expect(await store.bindAgentSocket('call_nobody', 'socket_tab2')).toBeNull();
    });
  });

  describe('returns copies', () => {
    it('mutating a returned request (or the stored input) does not change the store', async () => {
      const input = request();
      await store.putRequest(input);
      input.agentId = 'agent_mutated';
      input.rejectedBy.push('agent_mutated');

      const got = (await store.getRequest(input.requestId))!;
      got.ringSeq = 99;
      got.passedBy.push('agent_mutated');
      const rung = (await store.ring(input.requestId, 'agent_a'))!;
      rung.rejectedBy.push('agent_mutated');
      (await store.ringing('agent_a'))[0].passedBy.push('agent_mutated');
      (await store.requestOfVisitor(input.visitorId))!.agentId = 'agent_mutated';
      const released = (await store.release(input.requestId, 'agent_a', 'passed'))!;
      released.passedBy.length = 0;
      (await store.waitingRequests('org_one'))[0].rejectedBy.push('agent_mutated');

      expect(await store.getRequest(input.requestId)).toEqual({
        ...input,
        agentId: null,
        ringSeq: 2,
        rejectedBy: [],
        passedBy: ['agent_a'],
      });
    });

    it('mutating a returned call (or the stored input) does not change the store', async () => {
      const input = call({ agentId: 'agent_a', visitorId: 'visitor_v' });
      const original = structuredClone(input);
      await store.createCall(input);
      input.tokenHashes.agent = 'mutated';
      input.disconnectedAt.visitor = 1;

      const got = (await store.getCall(original.callId))!;
      got.tokenHashes.visitor = 'mutated';
      got.disconnectedAt.agent = 2;
      (await store.callOfAgent('agent_a'))!.tokenHashes.agent = 'mutated';
      (await store.callOfVisitor('visitor_v'))!.disconnectedAt.visitor = 3;
      (await store.setDisconnected(original.callId, 'agent', null))!.tokenHashes.agent = 'mutated';

      expect(await store.getCall(original.callId)).toEqual(original);

      const spent = (await store.spendToken({
        tokenHash: original.tokenHashes.agent,
        role: 'agent',
        next: NEXT,
        agentId: 'agent_a',
      }))!;
      spent.tokenHashes.visitor = 'mutated';
      spent.disconnectedAt.visitor = 4;
      expect(await store.getCall(original.callId)).toEqual({ ...original, tokenHashes: NEXT });
    });
  });
}
