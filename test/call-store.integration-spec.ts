import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { validateEnvironment } from '../src/config/app-config';
import { callStoreContract } from '../src/signaling/calls/call-store.contract';
import type { CallRecord, CallRequestRecord } from '../src/signaling/calls/call.types';
import { RedisCallStore, STATE_TTL_MS } from '../src/signaling/calls/redis-call.store';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

/** One "instance": its own connections to the space, and a store on them. */
async function instance(space: RedisSpace): Promise<{ store: RedisCallStore; close(): Promise<void> }> {
  const connections = new RedisConnections(validateEnvironment(space.env), new InstanceIdentity());
  await connections.onModuleInit();
  return { store: new RedisCallStore(connections), close: () => connections.onApplicationShutdown() };
}

function request(id: string, overrides: Partial<CallRequestRecord> = {}): CallRequestRecord {
  return {
    requestId: `req_${id}`,
    visitorId: `visitor_${id}`,
    orgId: 'org_one',
    poolId: null,
    pageUrl: 'https://www.one.example/pricing',
    requestedAt: 1_733_570_000_123,
    agentId: null,
    ringSeq: 0,
    rejectedBy: [],
    passedBy: [],
    ...overrides,
  };
}

function call(id: string, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    callId: `call_${id}`,
    callLogId: `log_${id}`,
    requestId: `req_${id}`,
    visitorId: `visitor_${id}`,
    agentId: `agent_${id}`,
    agentSocketId: `socket_${id}`,
    orgId: 'org_one',
    pageUrl: 'https://www.one.example/pricing',
    requestedAt: 1_733_570_000_123,
    startedAt: 1_733_570_004_567,
    tokenHashes: { agent: `agent-hash-${id}`, visitor: `visitor-hash-${id}` },
    disconnectedAt: { agent: null, visitor: null },
    lastHeartbeatAt: 1_733_570_004_567,
    ...overrides,
  };
}

describeOnRedis('RedisCallStore', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('the CallStore contract', () => {
    callStoreContract(async () => {
      const space = await openRedisSpace();
      const { store, close } = await instance(space);
      return {
        store,
        shared: true,
        dispose: async () => {
          await close();
          await space.dispose();
        },
      };
    });
  });

  describe('on Redis', () => {
    let space: RedisSpace;
    let closers: (() => Promise<void>)[];
    /** Two instances on one Redis. */
    let one: RedisCallStore;
    let two: RedisCallStore;

    beforeEach(async () => {
      space = await openRedisSpace();
      const [a, b] = [await instance(space), await instance(space)];
      one = a.store;
      two = b.store;
      closers = [a.close, b.close];
    });
    afterEach(async () => {
      for (const close of closers) await close();
      await space.dispose();
    });

    it('an accept whose calls half failed leaves the request ringing: the claim needs the call to exist', async () => {
      // What the MULTI's second script sees if the first stored nothing (MULTI never rolls back).
      const requests = readFileSync(
        join(__dirname, '..', 'src', 'signaling', 'calls', 'call-store-requests.lua'),
        'utf8',
      );
      const rung = request('m');
      await one.putRequest(rung);
      await one.ring(rung.requestId, 'agent_a');
      const claim = (callId: string): Promise<unknown> =>
        space.client.eval(
          requests,
          0,
          space.prefix,
          STATE_TTL_MS,
          'claim',
          rung.requestId,
          'agent_a',
          callId,
        );
      expect(await claim('call_never_stored')).toBeNull();
      expect(await two.getRequest(rung.requestId)).toMatchObject({ agentId: 'agent_a' });
      // The whole accept, on the other instance: both halves.
      const accepted = call('m', { agentId: 'agent_a', requestId: rung.requestId });
      expect(await two.claim(rung.requestId, 'agent_a', accepted)).toMatchObject({
        requestId: rung.requestId,
      });
      expect(await one.getCall(accepted.callId)).toEqual(accepted);
      expect(await one.getRequest(rung.requestId)).toBeNull();
    });

    /** Every key under the prefix with its PTTL. */
    async function ttls(): Promise<Record<string, number>> {
      const found: Record<string, number> = {};
      for (const key of await space.keys()) found[key] = await space.client.pttl(key);
      return found;
    }

    it('every key it writes expires, and nothing is left once every request and call is gone', async () => {
      // Requests: waiting, ringing, released, replaced.
      await one.putRequest(request('w1'));
      await one.putRequest(request('w2', { orgId: 'org_two' }));
      await two.putRequest(request('r1'));
      await two.ring('req_r1', 'agent_a');
      await one.putRequest(request('r2'));
      await one.ring('req_r2', 'agent_b');
      await two.release('req_r2', 'agent_b', 'rejected');
      await one.putRequest(request('r3', { visitorId: 'visitor_w1' }));
      // A call through a disconnection, a reconnect, a login, heartbeats.
      await one.putRequest(request('c1'));
      await one.ring('req_c1', 'agent_c');
      await two.claim('req_c1', 'agent_c', call('c1'));
      await two.createCall(call('c2'));
      await one.setDisconnected('call_c1', 'visitor', 1_733_570_010_000);
      await two.spendToken({
        tokenHash: 'visitor-hash-c1',
        role: 'visitor',
        next: { agent: 'agent-hash-c1b', visitor: 'visitor-hash-c1b' },
      });
      await one.setDisconnected('call_c2', 'agent', 1_733_570_011_000);
      await two.reattachAgent('call_c2', 'visitor-hash-c2b');
      await one.bindAgentSocket('call_c2', 'socket_c2b');
      await two.touchCall('call_c1', 1_733_570_012_345);

      const during = await ttls();
      expect(Object.keys(during).length).toBeGreaterThan(10);
      for (const [key, ttl] of Object.entries(during)) {
        expect({ key, expires: ttl > 0 && ttl <= STATE_TTL_MS }).toEqual({ key, expires: true });
      }
      expect(await one.counts()).toEqual({ requests: 4, calls: 2 });

      await one.withdraw('req_w2', 'visitor_w2');
      await two.claim('req_r1', 'agent_a', call('r1'));
      await one.withdraw('req_r2', 'visitor_r2');
      await two.withdraw('req_r3', 'visitor_w1');
      await one.endCall('call_c1');
      await two.endCall('call_c2');
      await one.endCall('call_r1');
      expect(await one.counts()).toEqual({ requests: 0, calls: 0 });
      expect(await space.keys()).toEqual([]);
    });

    it('keeps epoch milliseconds exact through the scripts', async () => {
      const stored = request('t', { requestedAt: 1_733_570_000_123 });
      await one.putRequest(stored);
      // ring and release re-encode the record in Lua.
      await one.ring(stored.requestId, 'agent_a');
      expect(await two.release(stored.requestId, 'agent_a', 'passed')).toEqual({
        ...stored,
        ringSeq: 2,
        passedBy: ['agent_a'],
      });
      await one.createCall(call('t'));
      await one.setDisconnected('call_t', 'agent', 1_733_570_009_876);
      await one.touchCall('call_t', 1_733_570_019_999);
      expect(await two.getCall('call_t')).toMatchObject({
        requestedAt: 1_733_570_000_123,
        startedAt: 1_733_570_004_567,
        disconnectedAt: { agent: 1_733_570_009_876, visitor: null },
        lastHeartbeatAt: 1_733_570_019_999,
      });
      expect(await one.endCall('call_t', { role: 'agent', at: 1_733_570_009_876 })).not.toBeNull();
    });

    describe('two instances racing', () => {
      const RACERS = 10;
      /** Runs `attempt` RACERS times at once, alternating the instances. */
      async function race<T>(attempt: (store: RedisCallStore, i: number) => Promise<T | null>): Promise<T[]> {
        const results: (T | null)[] = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => attempt(i % 2 === 0 ? one : two, i)),
        );
        return results.filter((result): result is T => result !== null);
      }

      it('claim: exactly one of ten wins', async () => {
        await one.putRequest(request('q'));
        await two.ring('req_q', 'agent_a');
        expect(
          await race((store, i) => store.claim('req_q', 'agent_a', call(`q${i}`, { agentId: 'agent_a' }))),
        ).toHaveLength(1);
        expect(await one.getRequest('req_q')).toBeNull();
        expect(await two.counts()).toEqual({ requests: 0, calls: 1 });
      });

      it('endCall: exactly one of ten ends it', async () => {
        await one.createCall(call('e'));
        expect(await race((store) => store.endCall('call_e'))).toHaveLength(1);
        expect(await two.counts()).toEqual({ requests: 0, calls: 0 });
        expect(await space.keys()).toEqual([]);
      });

      it('spendToken: one token, ten spends, exactly one wins', async () => {
        await one.createCall(call('s', { disconnectedAt: { agent: null, visitor: 50 } }));
        const winners = await race((store, i) =>
          store.spendToken({
            tokenHash: 'visitor-hash-s',
            role: 'visitor',
            next: { agent: `agent-next-${i}`, visitor: `visitor-next-${i}` },
          }),
        );
        expect(winners).toHaveLength(1);
        expect((await two.getCall('call_s'))!.tokenHashes).toEqual(winners[0].tokenHashes);
        // Only the winner's new tokens are indexed.
        const tokenKeys = (await space.keys()).filter((key) => key.includes(':call-token:'));
        expect(tokenKeys.sort()).toEqual(
          [
            `${space.prefix}call-token:agent:${winners[0].tokenHashes.agent}`,
            `${space.prefix}call-token:visitor:${winners[0].tokenHashes.visitor}`,
          ].sort(),
        );
      });

      it('ring: one waiting request, ten agents, exactly one rings', async () => {
        await one.putRequest(request('g'));
        const winners = await race((store, i) => store.ring('req_g', `agent_${i}`));
        expect(winners).toHaveLength(1);
        expect(winners[0].ringSeq).toBe(1);
        expect(await one.waitingRequests('org_one')).toEqual([]);
        for (let i = 0; i < RACERS; i += 1) {
          const expected = `agent_${i}` === winners[0].agentId ? [winners[0]] : [];
          expect(await two.ringing(`agent_${i}`)).toEqual(expected);
        }
      });
    });
  });
});
