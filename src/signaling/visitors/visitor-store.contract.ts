import { VisitorStore } from './visitor.store';
import type { RegisterVisitorInput } from './visitor.types';

const CAPACITY = 25;

/** A store under test, and how to throw it away. */
export interface VisitorStoreUnderTest {
  store: VisitorStore;
  dispose(): Promise<void>;
}

/**
 * The behaviour every VisitorStore implementation shares (DESIGN §4), declared as `describe`/`it`
 * blocks: each test gets a fresh store from `make` and disposes of it afterwards.
 */
export function visitorStoreContract(make: () => Promise<VisitorStoreUnderTest>): void {
  let store: VisitorStore;
  let dispose: () => Promise<void>;
  let fresh = 0;

  beforeEach(async () => {
    ({ store, dispose } = await make());
  });

  afterEach(async () => {
    await dispose();
  });

  function registerInput(overrides: Partial<RegisterVisitorInput> = {}): RegisterVisitorInput {
    fresh += 1;
    return {
      freshId: `visitor_fresh_${fresh}`,
      orgId: 'org_one',
      poolId: 'pool_sales',
      pageUrl: 'https://www.one.example/pricing',
      socketId: `socket_${fresh}`,
      now: 1000 + fresh,
      ...overrides,
    };
  }

  async function registered(overrides: Partial<RegisterVisitorInput> = {}) {
    return store.register(registerInput(overrides));
  }

  /** Compare-and-set of a visitor's agent under the default capacity. */
  function assign(visitorId: string, agentId: string | null, expectedAgentId: string | null, now: number) {
    return store.assign({ visitorId, agentId, expectedAgentId, capacity: CAPACITY, now });
  }

  describe('register', () => {
    it('creates a waiting session under the fresh id when no preferred id is given', async () => {
      const input = registerInput();
      const visitor = await store.register(input);
      expect(visitor).toEqual({
        visitorId: input.freshId,
        orgId: 'org_one',
        poolId: 'pool_sales',
        pageUrl: input.pageUrl,
        socketId: input.socketId,
        connectedAt: input.now,
        lastActivityAt: input.now,
        agentId: null,
      });
      expect(await store.get(input.freshId)).toEqual(visitor);
      expect(await store.count()).toBe(1);
    });

    it('honours a free preferred id', async () => {
      const visitor = await registered({ preferredId: 'visitor_mine' });
      expect(visitor.visitorId).toBe('visitor_mine');
      expect(await store.get('visitor_mine')).toMatchObject({ socketId: visitor.socketId });
    });

    it('refuses a preferred id a session holds: the fresh id is issued and the holder is untouched', async () => {
      const holder = await registered({ preferredId: 'visitor_taken', socketId: 'socket_holder' });
      const input = registerInput({ preferredId: 'visitor_taken', socketId: 'socket_intruder' });
      const intruder = await store.register(input);

      expect(intruder.visitorId).toBe(input.freshId);
      expect(intruder.socketId).toBe('socket_intruder');
      expect(await store.get('visitor_taken')).toEqual(holder);
      expect(await store.count()).toBe(2);
    });

    it('refuses a preferred id held by a session waiting for its reconnect (no socket)', async () => {
      await registered({ preferredId: 'visitor_held' });
      await store.setSocket('visitor_held', null);
      const input = registerInput({ preferredId: 'visitor_held' });
      expect((await store.register(input)).visitorId).toBe(input.freshId);
      expect(await store.get('visitor_held')).toMatchObject({ socketId: null });
    });

    it('honours a preferred id again once its session was removed', async () => {
      const first = await registered({ preferredId: 'visitor_back' });
      await store.remove('visitor_back', first.socketId);
      expect((await registered({ preferredId: 'visitor_back' })).visitorId).toBe('visitor_back');
    });
  });

  describe('remove', () => {
    it('removes the session only for the socket that holds it', async () => {
      const visitor = await registered({ socketId: 'socket_a' });

      expect(await store.remove(visitor.visitorId, 'socket_other')).toBeNull();
      expect(await store.remove(visitor.visitorId, null)).toBeNull();
      expect(await store.get(visitor.visitorId)).not.toBeNull();

      expect(await store.remove(visitor.visitorId, 'socket_a')).toEqual(visitor);
      expect(await store.get(visitor.visitorId)).toBeNull();
      expect(await store.count()).toBe(0);
    });

    it('removes a held session (no socket) only with null', async () => {
      const visitor = await registered({ socketId: 'socket_a' });
      await store.setSocket(visitor.visitorId, null);
      expect(await store.remove(visitor.visitorId, 'socket_a')).toBeNull();
      expect(await store.remove(visitor.visitorId, null)).toMatchObject({ visitorId: visitor.visitorId });
      expect(await store.get(visitor.visitorId)).toBeNull();
    });

    it('returns null for an unknown visitor', async () => {
      expect(await store.remove('visitor_nobody', 'socket_a')).toBeNull();
    });

    it("releases the agent's load", async () => {
      const one = await registered();
      const two = await registered();
      await assign(one.visitorId, 'agent_a', null, 5);
      await assign(two.visitorId, 'agent_a', null, 6);
      expect((await store.loads(['agent_a'])).agent_a.visitors).toBe(2);

      const removed = await store.remove(one.visitorId, one.socketId);
      expect(removed).toMatchObject({ agentId: 'agent_a' });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 1, lastAssignedAt: 6 } });
      expect(await store.assignedTo('agent_a')).toEqual([
        expect.objectContaining({ visitorId: two.visitorId }),
      ]);
    });

    it('a refused remove leaves the load alone', async () => {
      const visitor = await registered({ socketId: 'socket_a' });
      await assign(visitor.visitorId, 'agent_a', null, 5);
      await store.remove(visitor.visitorId, 'socket_b');
      expect((await store.loads(['agent_a'])).agent_a.visitors).toBe(1);
    });
  });

  describe('setSocket', () => {
    it('holds the session without a socket and moves it to a new one', async () => {
      const visitor = await registered({ socketId: 'socket_a' });
      expect(await store.setSocket(visitor.visitorId, null)).toMatchObject({ socketId: null });
      expect(await store.setSocket(visitor.visitorId, 'socket_b')).toMatchObject({ socketId: 'socket_b' });
      expect(await store.get(visitor.visitorId)).toMatchObject({ socketId: 'socket_b' });
      expect(await store.setSocket('visitor_nobody', 'socket_c')).toBeNull();
    });
  });

  describe('hold', () => {
    it('detaches the session only from the socket that holds it: a late disconnect leaves a reconnected session alone', async () => {
      const visitor = await registered({ socketId: 'socket_a' });
      expect(await store.hold(visitor.visitorId, 'socket_other')).toBeNull();
      expect(await store.get(visitor.visitorId)).toMatchObject({ socketId: 'socket_a' });
      // The reconnect won the race: socket_a's disconnect, handled now, changes nothing.
      await store.setSocket(visitor.visitorId, 'socket_b');
      expect(await store.hold(visitor.visitorId, 'socket_a')).toBeNull();
      expect(await store.get(visitor.visitorId)).toMatchObject({ socketId: 'socket_b' });
      expect(await store.hold(visitor.visitorId, 'socket_b')).toMatchObject({ socketId: null });
      expect(await store.get(visitor.visitorId)).toMatchObject({ socketId: null });
      expect(await store.hold('visitor_nobody', 'socket_b')).toBeNull();
    });
  });

  describe('assignBest', () => {
    /** Gives `agentId` `count` visitors of their own, the last one assigned at `at`. */
    async function load(agentId: string, count: number, at: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const visitor = await registered();
        await assign(visitor.visitorId, agentId, null, at);
      }
    }

    function assignBest(
      visitorId: string,
      candidates: { agentId: string; rank: number }[],
      capacity = CAPACITY,
    ) {
      return store.assignBest({ visitorId, candidates, expectedAgentId: null, capacity, now: 9_000 });
    }

    it('prefers the best tier, even when it is busier', async () => {
      await load('agent_tier1', 3, 10);
      const visitor = await registered();
      const result = await assignBest(visitor.visitorId, [
        { agentId: 'agent_tier2', rank: 2 },
        { agentId: 'agent_tier1', rank: 1 },
      ]);
      expect(result).toEqual({ visitor: { ...visitor, agentId: 'agent_tier1' }, previousAgentId: null });
      expect((await store.loads(['agent_tier1'])).agent_tier1).toEqual({
        visitors: 4,
        lastAssignedAt: 9_000,
      });
    });

    it('within a tier: fewest visitors, then never or least recently assigned, then agent id', async () => {
      await load('agent_busy', 2, 10);
      await load('agent_recent', 1, 50);
      await load('agent_earlier', 1, 20);
      const first = await registered();
      const tier = ['agent_busy', 'agent_recent', 'agent_earlier'].map((agentId) => ({ agentId, rank: 1 }));
      expect((await assignBest(first.visitorId, tier))?.visitor.agentId).toBe('agent_earlier');
      // A never-assigned agent comes before every assigned one with as many visitors.
      const second = await registered();
      const withNew = [...tier, { agentId: 'agent_new', rank: 1 }];
      expect((await assignBest(second.visitorId, withNew))?.visitor.agentId).toBe('agent_new');
      // A full tie is broken by agent id.
      const third = await registered();
      const twins = [
        { agentId: 'agent_twin_b', rank: 1 },
        { agentId: 'agent_twin_a', rank: 1 },
      ];
      expect((await assignBest(third.visitorId, twins))?.visitor.agentId).toBe('agent_twin_a');
    });

    it('skips candidates at capacity; with none under it the visitor waits', async () => {
      await load('agent_full', 2, 10);
      const visitor = await registered();
      const full = [{ agentId: 'agent_full', rank: 1 }];
      const result = await assignBest(visitor.visitorId, [...full, { agentId: 'agent_room', rank: 2 }], 2);
      expect(result?.visitor.agentId).toBe('agent_room');
      const other = await registered();
      expect(await assignBest(other.visitorId, full, 2)).toEqual({
        visitor: { ...other, agentId: null },
        previousAgentId: null,
      });
      expect(await store.waiting('org_one')).toEqual([
        expect.objectContaining({ visitorId: other.visitorId }),
      ]);
    });

    it('is compare-and-set on expectedAgentId, like assign', async () => {
      const visitor = await registered();
      await assign(visitor.visitorId, 'agent_a', null, 1);
      expect(await assignBest(visitor.visitorId, [{ agentId: 'agent_b', rank: 1 }])).toBeNull();
      expect(await store.get(visitor.visitorId)).toMatchObject({ agentId: 'agent_a' });
      expect(
        await store.assignBest({
          visitorId: 'visitor_nobody',
          candidates: [],
          expectedAgentId: null,
          capacity: CAPACITY,
          now: 1,
        }),
      ).toBeNull();
    });
  });

  describe('assign', () => {
    it('assigns a waiting visitor and records the new count and lastAssignedAt', async () => {
      const visitor = await registered();
      const result = await assign(visitor.visitorId, 'agent_a', null, 42);
      expect(result).toEqual({
        visitor: { ...visitor, agentId: 'agent_a' },
        previousAgentId: null,
      });
      expect(await store.get(visitor.visitorId)).toMatchObject({ agentId: 'agent_a' });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 1, lastAssignedAt: 42 } });
      expect(await store.assignedTo('agent_a')).toEqual([{ ...visitor, agentId: 'agent_a' }]);
    });

    it('is compare-and-set on expectedAgentId: a stale decision writes nothing', async () => {
      const visitor = await registered();
      await assign(visitor.visitorId, 'agent_a', null, 1);

      // Decided while the visitor was still waiting: agent_a got it meanwhile.
      expect(await assign(visitor.visitorId, 'agent_b', null, 2)).toBeNull();
      expect(await assign(visitor.visitorId, 'agent_b', 'agent_c', 2)).toBeNull();

      expect(await store.get(visitor.visitorId)).toMatchObject({ agentId: 'agent_a' });
      expect(await store.loads(['agent_a', 'agent_b'])).toEqual({
        agent_a: { visitors: 1, lastAssignedAt: 1 },
        agent_b: { visitors: 0, lastAssignedAt: null },
      });
    });

    it('two racing assignments of one waiting visitor: exactly one wins', async () => {
      const visitor = await registered();
      const results = await Promise.all(
        ['agent_a', 'agent_b'].map((agentId) =>
          store.assign({
            visitorId: visitor.visitorId,
            agentId,
            expectedAgentId: null,
            capacity: CAPACITY,
            now: 3,
          }),
        ),
      );
      expect(results.filter((result) => result !== null)).toHaveLength(1);
      const loads = await store.loads(['agent_a', 'agent_b']);
      expect(loads.agent_a.visitors + loads.agent_b.visitors).toBe(1);
    });

    it('moves a visitor between agents, and both counts follow', async () => {
      const moving = await registered();
      const staying = await registered();
      await assign(moving.visitorId, 'agent_a', null, 1);
      await assign(staying.visitorId, 'agent_a', null, 2);

      const result = await assign(moving.visitorId, 'agent_b', 'agent_a', 10);
      expect(result).toEqual({
        visitor: { ...moving, agentId: 'agent_b' },
        previousAgentId: 'agent_a',
      });
      expect(await store.loads(['agent_a', 'agent_b'])).toEqual({
        // Losing a visitor does not make an agent "recently assigned".
        agent_a: { visitors: 1, lastAssignedAt: 2 },
        agent_b: { visitors: 1, lastAssignedAt: 10 },
      });
      expect((await store.assignedTo('agent_a')).map((v) => v.visitorId)).toEqual([staying.visitorId]);
      expect((await store.assignedTo('agent_b')).map((v) => v.visitorId)).toEqual([moving.visitorId]);
    });

    it('unassigns (agentId null): the previous agent loses the visitor, which waits again', async () => {
      const visitor = await registered();
      await assign(visitor.visitorId, 'agent_a', null, 1);
      const result = await assign(visitor.visitorId, null, 'agent_a', 2);
      expect(result).toEqual({
        visitor: { ...visitor, agentId: null },
        previousAgentId: 'agent_a',
      });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 0, lastAssignedAt: 1 } });
      expect((await store.waiting('org_one')).map((v) => v.visitorId)).toEqual([visitor.visitorId]);
    });

    it('refuses an agent at capacity (capacity is exclusive) and writes nothing', async () => {
      const first = await registered();
      const second = await registered();
      const third = await registered();
      await store.assign({
        visitorId: first.visitorId,
        agentId: 'agent_full',
        expectedAgentId: null,
        capacity: 2,
        now: 1,
      });
      expect(
        await store.assign({
          visitorId: second.visitorId,
          agentId: 'agent_full',
          expectedAgentId: null,
          capacity: 2,
          now: 2,
        }),
      ).not.toBeNull();

      expect(
        await store.assign({
          visitorId: third.visitorId,
          agentId: 'agent_full',
          expectedAgentId: null,
          capacity: 2,
          now: 3,
        }),
      ).toBeNull();
      expect(await store.get(third.visitorId)).toMatchObject({ agentId: null });
      expect(await store.loads(['agent_full'])).toEqual({ agent_full: { visitors: 2, lastAssignedAt: 2 } });
    });

    it('a refused move keeps the visitor with its current agent', async () => {
      const full = await registered();
      const moving = await registered();
      await store.assign({
        visitorId: full.visitorId,
        agentId: 'agent_full',
        expectedAgentId: null,
        capacity: 1,
        now: 1,
      });
      await store.assign({
        visitorId: moving.visitorId,
        agentId: 'agent_a',
        expectedAgentId: null,
        capacity: 1,
        now: 2,
      });
      expect(
        await store.assign({
          visitorId: moving.visitorId,
          agentId: 'agent_full',
          expectedAgentId: 'agent_a',
          capacity: 1,
          now: 3,
        }),
      ).toBeNull();
      expect(await store.get(moving.visitorId)).toMatchObject({ agentId: 'agent_a' });
      expect(await store.loads(['agent_a', 'agent_full'])).toEqual({
        agent_a: { visitors: 1, lastAssignedAt: 2 },
        agent_full: { visitors: 1, lastAssignedAt: 1 },
      });
    });

    it('re-assigning the same agent changes nothing', async () => {
      const visitor = await registered();
      await store.assign({
        visitorId: visitor.visitorId,
        agentId: 'agent_a',
        expectedAgentId: null,
        capacity: 1,
        now: 1,
      });
      // Even at capacity: the visitor is already counted.
      const result = await store.assign({
        visitorId: visitor.visitorId,
        agentId: 'agent_a',
        expectedAgentId: 'agent_a',
        capacity: 1,
        now: 9,
      });
      expect(result).toMatchObject({ visitor: { agentId: 'agent_a' }, previousAgentId: 'agent_a' });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 1, lastAssignedAt: 1 } });
    });

    it('returns null for an unknown visitor', async () => {
      expect(await assign('visitor_nobody', 'agent_a', null, 1)).toBeNull();
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 0, lastAssignedAt: null } });
    });
  });

  describe('waiting', () => {
    it("lists the organisation's connected visitors without an agent, oldest first", async () => {
      const late = await registered({ now: 300 });
      const early = await registered({ now: 100 });
      const assigned = await registered({ now: 50 });
      const held = await registered({ now: 60 });
      await registered({ now: 10, orgId: 'org_two' });
      const middle = await registered({ now: 200 });
      await assign(assigned.visitorId, 'agent_a', null, 1);
      await store.setSocket(held.visitorId, null);

      expect((await store.waiting('org_one')).map((v) => v.visitorId)).toEqual([
        early.visitorId,
        middle.visitorId,
        late.visitorId,
      ]);
      expect(await store.waiting('org_nobody')).toEqual([]);
    });
  });

  describe('touch', () => {
    it('records a sign of life of a session, and of nobody else', async () => {
      const visitor = await registered();
      const other = await registered();
      await store.touch(visitor.visitorId, 5_000);
      await store.touch('visitor_nobody', 6_000);
      expect(await store.get(visitor.visitorId)).toMatchObject({ lastActivityAt: 5_000 });
      expect(await store.get(other.visitorId)).toEqual(other);
      expect(await store.count()).toBe(2);
    });
  });

  describe('poolCounts', () => {
    it('counts sessions by pool within the organisation, as they come and go (no pool: not counted)', async () => {
      const sales1 = await registered();
      await registered();
      const lost = await registered({ poolId: null });
      await registered({ orgId: 'org_two', poolId: 'pool_two_main' });
      expect(await store.poolCounts('org_one')).toEqual({ pool_sales: 2 });
      expect(await store.poolCounts('org_two')).toEqual({ pool_two_main: 1 });

      // A held session (waiting for its reconnect) still counts; a removed one does not.
      await store.setSocket(sales1.visitorId, null);
      await store.remove(lost.visitorId, lost.socketId);
      expect(await store.poolCounts('org_one')).toEqual({ pool_sales: 2 });
      // A refused removal changes nothing.
      await store.remove(sales1.visitorId, 'socket_other');
      expect(await store.poolCounts('org_one')).toEqual({ pool_sales: 2 });
      expect(await store.poolCounts('org_nobody')).toEqual({});
    });
  });

  describe('loads', () => {
    it('reports every asked agent, unknown ones as never assigned', async () => {
      expect(await store.loads(['agent_x', 'agent_y'])).toEqual({
        agent_x: { visitors: 0, lastAssignedAt: null },
        agent_y: { visitors: 0, lastAssignedAt: null },
      });
      expect(await store.loads([])).toEqual({});
    });
  });

  describe('order and indexes', () => {
    it('sessions connected in the same millisecond keep their registration order', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await registered({ now: 7_000 })).visitorId);
      const earlier = await registered({ now: 6_999 });
      expect((await store.waiting('org_one')).map((v) => v.visitorId)).toEqual([earlier.visitorId, ...ids]);

      for (const visitorId of [...ids].reverse()) await assign(visitorId, 'agent_a', null, 8_000);
      expect((await store.assignedTo('agent_a')).map((v) => v.visitorId)).toEqual(ids);
    });

    it('a held session leaves the waiting list and, back on a socket, waits again in its place', async () => {
      const first = await registered({ now: 100 });
      const second = await registered({ now: 200 });
      await store.setSocket(first.visitorId, null);
      expect((await store.waiting('org_one')).map((v) => v.visitorId)).toEqual([second.visitorId]);

      // Unassigned while held: still not waiting (no socket to greet).
      await assign(first.visitorId, 'agent_a', null, 1);
      await assign(first.visitorId, null, 'agent_a', 2);
      expect((await store.waiting('org_one')).map((v) => v.visitorId)).toEqual([second.visitorId]);

      await store.setSocket(first.visitorId, 'socket_back');
      expect(await store.waiting('org_one')).toEqual([{ ...first, socketId: 'socket_back' }, second]);
    });

    it('a removed or reassigned visitor leaves every list it was in', async () => {
      const moving = await registered();
      const leaving = await registered();
      await assign(moving.visitorId, 'agent_a', null, 1);
      await assign(leaving.visitorId, 'agent_a', null, 2);
      await assign(moving.visitorId, 'agent_b', 'agent_a', 3);
      await store.remove(leaving.visitorId, leaving.socketId);

      expect(await store.assignedTo('agent_a')).toEqual([]);
      expect(await store.assignedTo('agent_b')).toEqual([{ ...moving, agentId: 'agent_b' }]);
      expect(await store.waiting('org_one')).toEqual([]);
      expect(await store.count()).toBe(1);
      expect(await store.assignedTo('agent_nobody')).toEqual([]);
    });

    it('an unbounded capacity takes any number of visitors', async () => {
      for (let i = 0; i < 3; i += 1) {
        const visitor = await registered();
        expect(
          await store.assign({
            visitorId: visitor.visitorId,
            agentId: 'agent_a',
            expectedAgentId: null,
            capacity: Infinity,
            now: i,
          }),
        ).not.toBeNull();
      }
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 3, lastAssignedAt: 2 } });
    });
  });

  describe('values', () => {
    it('keeps epoch milliseconds and any text exactly', async () => {
      const t0 = 1_733_570_000_123;
      const input = registerInput({
        preferredId: 'visitor_ünï/"côdé"',
        pageUrl: 'https://www.one.example/a/b?q="x"&y=\\z#ß😀',
        now: t0,
      });
      const visitor = await store.register(input);
      expect(visitor).toMatchObject({
        visitorId: 'visitor_ünï/"côdé"',
        connectedAt: t0,
        pageUrl: input.pageUrl,
      });
      await store.touch(visitor.visitorId, t0 + 1);
      await assign(visitor.visitorId, 'agent_a', null, t0 + 2);
      expect(await store.get(visitor.visitorId)).toEqual({
        ...visitor,
        lastActivityAt: t0 + 1,
        agentId: 'agent_a',
      });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 1, lastAssignedAt: t0 + 2 } });
    });
  });

  describe('returns copies', () => {
    it('mutating a returned record or load does not change the store', async () => {
      const visitor = await registered();
      visitor.agentId = 'agent_mutated';
      visitor.socketId = 'socket_mutated';
      const got = (await store.get(visitor.visitorId))!;
      expect(got).toMatchObject({ agentId: null, socketId: expect.stringMatching(/^socket_\d+$/) });

      got.orgId = 'org_mutated';
      (await store.waiting('org_one'))[0].agentId = 'agent_mutated';
      const result = (await assign(visitor.visitorId, 'agent_a', null, 1))!;
      result.visitor.agentId = 'agent_mutated';
      (await store.assignedTo('agent_a'))[0].agentId = 'agent_mutated';
      const loads = await store.loads(['agent_a']);
      loads.agent_a.visitors = 99;
      loads.agent_a.lastAssignedAt = 99;

      expect(await store.get(visitor.visitorId)).toMatchObject({ orgId: 'org_one', agentId: 'agent_a' });
      expect(await store.loads(['agent_a'])).toEqual({ agent_a: { visitors: 1, lastAssignedAt: 1 } });
    });

    it('mutating the register input afterwards does not change the store', async () => {
      const input = registerInput();
      await store.register(input);
      input.pageUrl = 'https://mutated.example/';
      expect(await store.get(input.freshId)).toMatchObject({ pageUrl: 'https://www.one.example/pricing' });
    });
  });
}
