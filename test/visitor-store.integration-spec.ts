import { Logger } from '@nestjs/common';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { validateEnvironment } from '../src/config/app-config';
import { RedisVisitorStore, STATE_TTL_MS } from '../src/signaling/visitors/redis-visitor.store';
import { visitorStoreContract } from '../src/signaling/visitors/visitor-store.contract';
import type { RegisterVisitorInput } from '../src/signaling/visitors/visitor.types';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

const T0 = 1_733_570_000_000;

/** One "instance": its own connections to the space, and a store on them. */
async function instance(space: RedisSpace): Promise<{ store: RedisVisitorStore; close(): Promise<void> }> {
  const connections = new RedisConnections(validateEnvironment(space.env), new InstanceIdentity());
  await connections.onModuleInit();
  return { store: new RedisVisitorStore(connections), close: () => connections.onApplicationShutdown() };
}

function registerInput(id: string, overrides: Partial<RegisterVisitorInput> = {}): RegisterVisitorInput {
  return {
    freshId: `visitor_${id}`,
    orgId: 'org_one',
    poolId: 'pool_sales',
    pageUrl: 'https://www.one.example/pricing',
    socketId: `socket_${id}`,
    now: T0,
    ...overrides,
  };
}

describeOnRedis('RedisVisitorStore', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('the VisitorStore contract', () => {
    visitorStoreContract(async () => {
      const space = await openRedisSpace();
      const { store, close } = await instance(space);
      return {
        store,
        dispose: async () => {
          await close();
          await space.dispose();
        },
      };
    });
  });

  describe('in Redis', () => {
    let space: RedisSpace;
    let one: RedisVisitorStore;
    let two: RedisVisitorStore;
    let closers: (() => Promise<void>)[];

    beforeEach(async () => {
      space = await openRedisSpace();
      const first = await instance(space);
      const second = await instance(space);
      one = first.store;
      two = second.store;
      closers = [first.close, second.close];
    });

    afterEach(async () => {
      for (const close of closers) await close();
      await space.dispose();
    });

    const assign = (
      store: RedisVisitorStore,
      visitorId: string,
      agentId: string | null,
      expectedAgentId: string | null,
      capacity = 25,
    ) => store.assign({ visitorId, agentId, expectedAgentId, capacity, now: T0 + 100 });

    it('every key it writes has a TTL; sessions gone leave only when agents were last assigned', async () => {
      await one.register(registerInput('a'));
      await two.register(registerInput('b', { now: T0 + 1 }));
      await one.register(registerInput('c', { orgId: 'org_two', poolId: null }));
      await two.register(registerInput('d', { orgId: 'org_two', poolId: 'pool_two' }));
      await assign(one, 'visitor_a', 'agent_a', null);
      await assign(two, 'visitor_c', 'agent_c', null);
      await assign(two, 'visitor_c', 'agent_d', 'agent_c');
      await one.setSocket('visitor_d', null);
      await two.touch('visitor_b', T0 + 5);

      const keys = await space.keys();
      expect(keys).toEqual(
        [
          'agent-assigned-at:agent_a',
          'agent-assigned-at:agent_c',
          'agent-assigned-at:agent_d',
          'agent-visitors:agent_a',
          'agent-visitors:agent_d',
          'visitor-pools:org_one',
          'visitor-pools:org_two',
          'visitor:visitor_a',
          'visitor:visitor_b',
          'visitor:visitor_c',
          'visitor:visitor_d',
          'visitors',
          'visitors-waiting:org_one',
        ]
          .map((key) => space.prefix + key)
          .sort(),
      );
      const ttls = await Promise.all(keys.map((key) => space.client.pttl(key)));
      expect(keys.filter((_, i) => ttls[i] === -1)).toEqual([]);
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(STATE_TTL_MS - 60_000);
        expect(ttl).toBeLessThanOrEqual(STATE_TTL_MS);
      }

      for (const id of ['a', 'b', 'c']) await one.remove(`visitor_${id}`, `socket_${id}`);
      await two.remove('visitor_d', null);
      expect(await two.count()).toBe(0);
      // Like the in-memory loads, an agent's lastAssignedAt outlives its visitors (until its TTL).
      expect(await space.keys()).toEqual(
        ['agent-assigned-at:agent_a', 'agent-assigned-at:agent_c', 'agent-assigned-at:agent_d'].map(
          (key) => space.prefix + key,
        ),
      );
    });

    it('20 racing assignments of one visitor from two instances: exactly one wins', async () => {
      await one.register(registerInput('racing'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => assign(i % 2 ? one : two, 'visitor_racing', `agent_${i}`, null)),
      );
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.visitor.agentId!;
      expect(await two.get('visitor_racing')).toMatchObject({ agentId: winner });

      const agentIds = Array.from({ length: 20 }, (_, i) => `agent_${i}`);
      const loads = await one.loads(agentIds);
      expect(agentIds.filter((agentId) => loads[agentId].visitors > 0)).toEqual([winner]);
      expect(loads[winner]).toEqual({ visitors: 1, lastAssignedAt: T0 + 100 });
      expect(await one.waiting('org_one')).toEqual([]);
    });

    it('50 visitors racing for 5 agents of capacity 10: none over capacity, each visitor assigned once', async () => {
      const visitorIds: string[] = [];
      for (let i = 0; i < 50; i += 1)
        visitorIds.push(
          (await (i % 2 ? one : two).register(registerInput(`v${i}`, { now: T0 + i }))).visitorId,
        );
      const agentIds = Array.from({ length: 5 }, (_, i) => `agent_${i}`);

      const attempts = visitorIds.flatMap((visitorId, v) =>
        agentIds.map((agentId, a) => ({ store: (v + a) % 2 ? one : two, visitorId, agentId })),
      );
      const results = await Promise.all(
        attempts.map(({ store, visitorId, agentId }) => assign(store, visitorId, agentId, null, 10)),
      );
      const won = results.filter((result) => result !== null).map((result) => result!.visitor);
      expect(won).toHaveLength(50);
      expect(new Set(won.map((visitor) => visitor.visitorId)).size).toBe(50);

      const loads = await two.loads(agentIds);
      for (const agentId of agentIds) {
        expect(loads[agentId].visitors).toBe(10);
        const assigned = await one.assignedTo(agentId);
        expect(assigned).toHaveLength(10);
        expect(assigned.map((visitor) => visitor.connectedAt)).toEqual(
          [...assigned.map((visitor) => visitor.connectedAt)].sort((a, b) => a - b),
        );
        expect(won.filter((visitor) => visitor.agentId === agentId)).toHaveLength(10);
      }
      expect(await one.waiting('org_one')).toEqual([]);
    });

    it('two instances registering under one preferred id: one session gets it', async () => {
      const sessions = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? one : two).register(registerInput(`fresh_${i}`, { preferredId: 'visitor_mine' })),
        ),
      );
      expect(sessions.filter((session) => session.visitorId === 'visitor_mine')).toHaveLength(1);
      expect(new Set(sessions.map((session) => session.visitorId)).size).toBe(10);
      expect(await one.count()).toBe(10);
      expect(await two.poolCounts('org_one')).toEqual({ pool_sales: 10 });
    });

    it('an index entry whose record expired is skipped', async () => {
      await one.register(registerInput('a'));
      await one.register(registerInput('b'));
      await one.register(registerInput('c'));
      await assign(one, 'visitor_c', 'agent_a', null);
      await space.client.del(`${space.prefix}visitor:visitor_a`, `${space.prefix}visitor:visitor_c`);

      expect((await two.waiting('org_one')).map((visitor) => visitor.visitorId)).toEqual(['visitor_b']);
      expect(await two.assignedTo('agent_a')).toEqual([]);
      expect(await two.get('visitor_a')).toBeNull();
    });
  });
});
