import { Logger } from '@nestjs/common';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { validateEnvironment } from '../src/config/app-config';
import { presenceStoreContract } from '../src/signaling/presence/presence-store.contract';
import type { AttachInput } from '../src/signaling/presence/presence.types';
import { RedisPresenceStore, STATE_TTL_MS } from '../src/signaling/presence/redis-presence.store';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

const T0 = 1_733_570_000_000;

/** One "instance": its own connections to the space, and a store on them. */
async function instance(space: RedisSpace): Promise<{ store: RedisPresenceStore; close(): Promise<void> }> {
  const connections = new RedisConnections(validateEnvironment(space.env), new InstanceIdentity());
  await connections.onModuleInit();
  return { store: new RedisPresenceStore(connections), close: () => connections.onApplicationShutdown() };
}

function attachInput(agentId: string, socketId: string, now: number, orgId = 'org_one'): AttachInput {
  return {
    agentId,
    userId: `user_${agentId}`,
    orgId,
    profile: {
      id: agentId,
      displayName: `Agent ${agentId}`,
      avatarUrl: null,
      waveVideoUrl: null,
      introVideoUrl: null,
      connectVideoUrl: null,
      loopVideoUrl: null,
    },
    pools: ['pool_sales'],
    socketId,
    now,
    resumeSince: now - 30_000,
  };
}

describeOnRedis('RedisPresenceStore', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('the PresenceStore contract', () => {
    presenceStoreContract(async () => {
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
    let one: RedisPresenceStore;
    let two: RedisPresenceStore;
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

    it('every key it writes has a TTL, and a presence gone leaves no key behind', async () => {
      await one.attach(attachInput('agent_a', 'socket_a1', T0, 'org_a'));
      await two.attach(attachInput('agent_a', 'socket_a2', T0 + 1, 'org_a'));
      await one.attach(attachInput('agent_b', 'socket_b', T0, 'org_b'));
      await one.attach(attachInput('agent_c', 'socket_c', T0, 'org_a'));
      await one.setStatus('agent_a', 'idle', T0 + 2);
      await two.setStatus('agent_b', 'idle', T0 + 2);
      await one.setStatus('agent_c', 'idle', T0 + 2);
      await two.attach(attachInput('agent_d', 'socket_d', T0, 'org_b'));
      await two.setStatus('agent_d', 'idle', T0 + 50);
      await two.enterCall('agent_b', 'visitor_1', T0 + 3);
      await one.touch('agent_c', T0 + 4);
      await one.detach('agent_a', 'socket_a1', T0 + 5);
      await two.detach('agent_c', 'socket_c', T0 + 5);
      await one.markStale(T0 + 10, T0 + 20);

      const keys = await space.keys();
      expect(keys).toEqual(
        [
          'presence:agent_a',
          'presence:agent_b',
          'presence:agent_c',
          'presence:agent_d',
          'presence-idle',
          'presence-org:org_a',
          'presence-org:org_b',
          'presences',
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

      await one.remove('agent_a');
      await two.remove('agent_b');
      await one.expireIfDisconnectedSince('agent_c', T0 + 5);
      await two.detach('agent_d', 'socket_d', T0 + 60);
      await two.remove('agent_d');
      expect(await space.keys()).toEqual([]);
    });

    it('stores the presence as JSON that round-trips epoch milliseconds exactly', async () => {
      await one.attach(attachInput('agent_a', 'socket_a', 1_733_570_123_456));
      await one.detach('agent_a', 'socket_a', 1_733_570_123_457);
      const raw = await space.client.get(`${space.prefix}presence:agent_a`);
      expect(JSON.parse(raw!)).toMatchObject({
        connectedAt: 1_733_570_123_456,
        disconnectedAt: 1_733_570_123_457,
      });
      expect(await two.get('agent_a')).toMatchObject({
        socketIds: [],
        connectedAt: 1_733_570_123_456,
        disconnectedAt: 1_733_570_123_457,
      });
    });

    it('an index entry whose record expired is skipped, and markStale drops it', async () => {
      await one.attach(attachInput('agent_a', 'socket_a', T0, 'org_a'));
      await one.attach(attachInput('agent_b', 'socket_b', T0, 'org_a'));
      await one.setStatus('agent_a', 'idle', T0);
      await one.setStatus('agent_b', 'idle', T0);
      await space.client.del(`${space.prefix}presence:agent_a`);

      expect((await two.list()).map((p) => p.agentId)).toEqual(['agent_b']);
      expect((await two.inOrg('org_a')).map((p) => p.agentId)).toEqual(['agent_b']);
      expect((await two.markStale(T0 + 1, T0 + 2)).map((p) => p.agentId)).toEqual(['agent_b']);
      expect(await space.client.exists(`${space.prefix}presence-idle`)).toBe(0);
    });

    it('sockets attached and detached in parallel by two instances leave a consistent list', async () => {
      const sockets = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => `socket_${String(from + i).padStart(2, '0')}`);
      const storeFor = (i: number) => (i % 2 === 0 ? one : two);

      await Promise.all(
        sockets(0, 20).map((socketId, i) => storeFor(i).attach(attachInput('agent_a', socketId, T0 + i))),
      );
      expect([...(await one.get('agent_a'))!.socketIds].sort()).toEqual(sockets(0, 20));

      await Promise.all([
        ...sockets(0, 10).map((socketId, i) => storeFor(i).detach('agent_a', socketId, T0 + 100)),
        ...sockets(20, 30).map((socketId, i) =>
          storeFor(i + 1).attach(attachInput('agent_a', socketId, T0 + 100)),
        ),
      ]);
      const after = (await two.get('agent_a'))!;
      expect([...after.socketIds].sort()).toEqual(sockets(10, 30));
      expect(after.disconnectedAt).toBeNull();

      await Promise.all(
        sockets(10, 30).map((socketId, i) => storeFor(i).detach('agent_a', socketId, T0 + 200 + i)),
      );
      const gone = (await one.get('agent_a'))!;
      expect(gone.socketIds).toEqual([]);
      expect(gone.disconnectedAt).toBeGreaterThanOrEqual(T0 + 200);
      expect(await one.list()).toEqual([gone]);
    });

    it('racing calls and sweeps from two instances: one call per agent, one mark per agent', async () => {
      for (let i = 0; i < 10; i += 1) {
        await one.attach(attachInput(`agent_${i}`, `socket_${i}`, T0));
        await one.setStatus(`agent_${i}`, 'idle', T0);
      }
      const entered = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? one : two).enterCall('agent_0', `visitor_${i}`, T0 + 1),
        ),
      );
      expect(entered.filter((result) => result !== null)).toHaveLength(1);

      const sweeps = await Promise.all(
        [one, two, one, two].map((store, n) => store.markStale(T0 + 1, T0 + 10 + n)),
      );
      const marked = sweeps.flat().map((p) => p.agentId);
      expect(marked.sort()).toEqual(Array.from({ length: 9 }, (_, i) => `agent_${i + 1}`).sort());
      expect(await space.client.exists(`${space.prefix}presence-idle`)).toBe(0);
    });
  });
});
