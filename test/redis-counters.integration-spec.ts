import { Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { TicketService } from '../src/auth/tickets/ticket.service';
import { RedisRedeemedTickets } from '../src/auth/tickets/redis-redeemed-tickets';
import type { Clock } from '../src/common/clock.service';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { SecurityEventBus } from '../src/common/security/security-event-bus.service';
import { LoginFailureBudget } from '../src/common/throttling/login-failure-budget.service';
import {
  RedisThrottlerStorage,
  THROTTLE_KEY_SLACK_MS,
} from '../src/common/throttling/redis-throttler.storage';
import { AppConfig, validateEnvironment } from '../src/config/app-config';
import { MetricsCooldownStore } from '../src/metrics/metrics-cooldown.store';
import { MetricsFailureCooldown } from '../src/metrics/metrics-failure-cooldown.service';
import { RedisMetricsCooldownStore } from '../src/metrics/redis-metrics-cooldown.store';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorageService['increment']>>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** 2024-12-07T11:13:20.123Z: epoch ms must go through Lua and back unchanged. */
const T0 = 1_733_570_000_123;

/** A deterministic pseudo-random sequence (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Redis has no negative zero: compare the library's `-0` (a `Math.ceil` of a small negative) as 0. */
function normalised(record: ThrottlerRecord): ThrottlerRecord {
  return {
    totalHits: record.totalHits,
    timeToExpire: record.timeToExpire + 0,
    isBlocked: record.isBlocked,
    timeToBlockExpire: record.timeToBlockExpire + 0,
  };
}

/** Every key under the space's prefix has a TTL (none was written without one). */
async function expectEveryKeyToExpire(space: RedisSpace): Promise<string[]> {
  const keys = await space.keys();
  for (const key of keys) {
    const ttl = await space.client.pttl(key);
    expect({ key, hasTtl: ttl > 0 }).toEqual({ key, hasTtl: true });
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// The metrics failure cool-down, one contract for both ledgers (MetricsFailureCooldown's rules).
// ---------------------------------------------------------------------------------------------

const LIMIT = 3;
const WINDOW_MS = 60_000;
const COOLDOWN_MS = 5_000;
const COOLDOWN_ENV = {
  METRICS_FAILURE_LIMIT: String(LIMIT),
  METRICS_FAILURE_COOLDOWN_MS: String(COOLDOWN_MS),
  RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
};

interface CooldownSubject {
  store: MetricsCooldownStore;
  advance(ms: number): void;
}

function cooldownContract(name: string, make: (clock: Clock) => Promise<MetricsCooldownStore>): void {
  describe(`MetricsCooldownStore contract: ${name}`, () => {
    let now: number;
    let subject: CooldownSubject;

    beforeEach(async () => {
      now = T0;
      const store = await make({ now: () => now });
      subject = { store, advance: (ms) => (now += ms) };
    });

    const fail = async (ip: string, times: number): Promise<boolean[]> => {
      const started: boolean[] = [];
      for (let i = 0; i < times; i += 1) started.push(await subject.store.recordFailure(ip));
      return started;
    };

    it('tolerates METRICS_FAILURE_LIMIT failures and cools down on the next, for its duration', async () => {
      expect(await subject.store.remaining('10.0.0.1')).toBe(0);
      expect(await fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
      expect(await subject.store.remaining('10.0.0.1')).toBe(0);
      expect(await subject.store.recordFailure('10.0.0.1')).toBe(true);
      expect(await subject.store.remaining('10.0.0.1')).toBe(COOLDOWN_MS);
      subject.advance(1_234);
      expect(await subject.store.remaining('10.0.0.1')).toBe(COOLDOWN_MS - 1_234);
      subject.advance(COOLDOWN_MS - 1_234);
      expect(await subject.store.remaining('10.0.0.1')).toBe(0);
    });

    it('neither extends nor restarts a cool-down while it runs; a full allowance after it', async () => {
      await fail('10.0.0.1', LIMIT + 1);
      subject.advance(1_000);
      expect(await fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
      expect(await subject.store.remaining('10.0.0.1')).toBe(COOLDOWN_MS - 1_000);
      subject.advance(COOLDOWN_MS - 1_000);
      expect(await subject.store.remaining('10.0.0.1')).toBe(0);
      // The failures made while cooling down were counted in the window.
      expect(await subject.store.recordFailure('10.0.0.1')).toBe(true);
      subject.advance(COOLDOWN_MS);
      expect(await fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
      expect(await subject.store.recordFailure('10.0.0.1')).toBe(true);
    });

    it('counts per window, to the millisecond, and per address', async () => {
      await fail('10.0.0.1', LIMIT);
      subject.advance(WINDOW_MS - 1);
      expect(await fail('10.0.0.2', LIMIT)).toEqual([false, false, false]);
      expect(await subject.store.recordFailure('10.0.0.1')).toBe(true);
      subject.advance(1);
      // 10.0.0.2's window began a millisecond ago: its fourth failure counts in it.
      expect(await subject.store.recordFailure('10.0.0.2')).toBe(true);
      await fail('10.0.0.3', LIMIT);
      subject.advance(WINDOW_MS);
      expect(await fail('10.0.0.3', LIMIT)).toEqual([false, false, false]);
      expect(await subject.store.remaining('10.0.0.3')).toBe(0);
    });
  });
}

cooldownContract('in memory (MetricsFailureCooldown)', (clock) =>
  Promise.resolve(new MetricsFailureCooldown(validateEnvironment(COOLDOWN_ENV), clock)),
);

describeOnRedis('shared counters in Redis', () => {
  let space: RedisSpace;
  const open: RedisConnections[] = [];

  /** One "instance"'s connections to the space. */
  async function connect(env: Record<string, string> = {}): Promise<RedisConnections> {
    const connections = new RedisConnections(
      validateEnvironment({ ...space.env, ...env }),
      new InstanceIdentity(),
    );
    await connections.onModuleInit();
    open.push(connections);
    return connections;
  }

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    space = await openRedisSpace();
  });
  afterEach(async () => {
    for (const connections of open.splice(0)) await connections.onApplicationShutdown();
    await space.dispose();
    jest.restoreAllMocks();
  });

  describe('RedisThrottlerStorage answers exactly like the library’s ThrottlerStorageService', () => {
    let library: ThrottlerStorageService;
    let now: number;
    let redis: RedisThrottlerStorage;

    beforeEach(async () => {
      library = new ThrottlerStorageService();
      now = T0;
      // The answers follow the simulated clock; its keys' TTLs would follow Redis's real one, so a
      // slow machine could expire them between two simulated instants: a minute of slack here.
      redis = new RedisThrottlerStorage(await connect(), () => now, 60_000);
    });
    afterEach(() => library.onApplicationShutdown());

    /** One increment on both at the same instant; both answers, after checking they are equal. */
    async function both(
      key: string,
      ttl: number,
      limit: number,
      blockDuration: number,
      name: string,
    ): Promise<ThrottlerRecord> {
      const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
      const expected = await library.increment(key, ttl, limit, blockDuration, name);
      clock.mockRestore();
      const actual = await redis.increment(key, ttl, limit, blockDuration, name);
      expect({ at: now - T0, ...normalised(actual) }).toEqual({ at: now - T0, ...normalised(expected) });
      return actual;
    }

    const at = (offsetMs: number): void => {
      now = T0 + offsetMs;
    };

    it('a scripted sequence with blocking: hits, the block, the window renewed inside it, the block ending', async () => {
      const hit = (): Promise<ThrottlerRecord> => both('k', 1_000, 3, 2_000, 'default');
      const answers: ThrottlerRecord[] = [];
      for (const offset of [0, 10, 20, 30, 500, 999, 1_000, 1_015, 1_999, 2_029, 2_030, 2_031, 2_500, 4_100])
        answers.push((at(offset), await hit()));
      // Spot checks that the sequence went through what it meant to.
      expect(answers.map((a) => a.isBlocked)).toEqual([
        false,
        false,
        false,
        true,
        true,
        true,
        true,
        true,
        true,
        true,
        false,
        false,
        false,
        false,
      ]);
      expect(answers[3]).toMatchObject({ totalHits: 4, timeToExpire: 1, timeToBlockExpire: 2 });
      expect(answers[10]).toMatchObject({ totalHits: 1 });
      await expectEveryKeyToExpire(space);
    });

    it('a scripted sequence without blocking (blockDuration 0): over the limit, refused but not counted', async () => {
      const hit = (): Promise<ThrottlerRecord> => both('nb', 1_000, 2, 0, 'default');
      const answers: ThrottlerRecord[] = [];
      for (const offset of [0, 1, 2, 999, 1_000, 1_001, 1_002, 2_500, 2_501, 2_502])
        answers.push((at(offset), await hit()));
      expect(answers[2]).toEqual({ totalHits: 3, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
      expect(answers[4].isBlocked).toBe(false);
      await expectEveryKeyToExpire(space);
    });

    it('two throttlers on one key share its block, as in the library', async () => {
      at(0);
      await both('shared', 1_000, 1, 1_000, 'a');
      await both('shared', 1_000, 1, 1_000, 'a');
      at(5);
      expect(await both('shared', 1_000, 5, 1_000, 'b')).toMatchObject({ totalHits: 0, isBlocked: true });
      at(1_001);
      await both('shared', 1_000, 5, 1_000, 'b');
      await both('shared', 1_000, 1, 1_000, 'a');
      await expectEveryKeyToExpire(space);
    });

    it('600 pseudo-random increments over two keys and three throttlers agree step by step', async () => {
      const next = random(20_241_207);
      const throttlers = [
        { name: 'short', ttl: 700, limit: 3, blockDuration: 1_500 },
        { name: 'long', ttl: 2_000, limit: 6, blockDuration: 2_000 },
        { name: 'noblock', ttl: 1_000, limit: 2, blockDuration: 0 },
      ];
      let offset = 0;
      const blocked = { withBlock: 0, withoutBlock: 0 };
      for (let step = 0; step < 600; step += 1) {
        offset += Math.floor(next() * 180);
        at(offset);
        const throttler = throttlers[Math.floor(next() * throttlers.length)];
        const key = next() < 0.5 ? 'r1' : 'r2';
        const answer = await both(
          key,
          throttler.ttl,
          throttler.limit,
          throttler.blockDuration,
          throttler.name,
        );
        if (answer.isBlocked) blocked[throttler.blockDuration > 0 ? 'withBlock' : 'withoutBlock'] += 1;
      }
      // The sequence went through blocks of both kinds, not only through plain hits.
      expect(blocked.withBlock).toBeGreaterThan(20);
      expect(blocked.withoutBlock).toBeGreaterThan(5);
      await expectEveryKeyToExpire(space);
    });
  });

  describe('RedisThrottlerStorage in real time', () => {
    it('lets its keys expire once the library could sweep the record, and then starts afresh like it', async () => {
      const library = new ThrottlerStorageService();
      const redis = new RedisThrottlerStorage(await connect());
      try {
        for (let i = 0; i < 2; i += 1) await redis.increment('rt', 150, 1, 300, 'default');
        const during = await expectEveryKeyToExpire(space);
        expect(during).toEqual([`${space.prefix}throttle:rt`, `${space.prefix}throttle:rt:hits:default`]);
        for (const key of during)
          expect(await space.client.pttl(key)).toBeLessThanOrEqual(300 + THROTTLE_KEY_SLACK_MS);
        await sleep(450 + THROTTLE_KEY_SLACK_MS);
        expect(await space.keys()).toEqual([]);
        const fresh = await redis.increment('rt', 150, 1, 300, 'default');
        const libraryFresh = await library.increment('rt', 150, 1, 300, 'default');
        expect(fresh).toEqual({ ...libraryFresh, timeToBlockExpire: expect.any(Number) });
        // A record never blocked answers a meaningless, non-positive time to block expiry.
        expect(fresh.timeToBlockExpire).toBeLessThanOrEqual(0);
      } finally {
        library.onApplicationShutdown();
      }
    });

    it('two instances (two connections) spend one budget, and both see the block', async () => {
      const a = new RedisThrottlerStorage(await connect());
      const b = new RedisThrottlerStorage(await connect());
      const answers: ThrottlerRecord[] = [];
      for (let i = 0; i < 6; i += 1)
        answers.push(await (i % 2 === 0 ? a : b).increment('ip:203.0.113.9', 60_000, 4, 60_000, 'default'));
      expect(answers.map((r) => [r.totalHits, r.isBlocked])).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, false],
        [5, true],
        [5, true],
      ]);
      expect(answers[5].timeToBlockExpire).toBe(60);
      await expectEveryKeyToExpire(space);
    });

    it('LoginFailureBudget counts failures of every instance in one budget', async () => {
      const env = { RATE_LIMIT_LOGIN_MAX: '3', RATE_LIMIT_LOGIN_AGENT_MAX: '100' };
      const config = validateEnvironment({ ...space.env, ...env });
      const budgets = [await connect(env), await connect(env)].map(
        (connections) =>
          new LoginFailureBudget(new RedisThrottlerStorage(connections), config, new SecurityEventBus()),
      );
      const attempt = {
        source: { transport: 'ws' as const, ip: '198.51.100.4' },
        target: 'agent:login',
        reason: 'malformed',
      };
      const outcomes = [];
      for (let i = 0; i < 4; i += 1) outcomes.push(await budgets[i % 2].recordFailure(attempt));
      expect(outcomes).toEqual([null, null, null, { budget: 'ip', retryAfterS: 60 }]);
      await expectEveryKeyToExpire(space);
    });
  });

  describe('RedisRedeemedTickets: a ticket is single-use across instances', () => {
    const env = { TICKET_SECRET: 't'.repeat(40), AUTH_JWT_SECRET: 's'.repeat(40) };
    const claims = { sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 3600, iat: 1_700_000_000, raw: {} };

    async function ticketService(): Promise<TicketService> {
      const connections = await connect(env);
      return new TicketService(
        new JwtService({}),
        validateEnvironment({ ...space.env, ...env }),
        new RedisRedeemedTickets(connections),
      );
    }

    it('redeemed through one instance, refused by another; the id expires with the ticket', async () => {
      const [a, b] = [await ticketService(), await ticketService()];
      const { ticket, jti } = await a.issue(claims);
      expect(await a.redeem(ticket)).toMatchObject({ ok: true, source: 'ticket' });
      expect(await b.redeem(ticket)).toEqual({
        ok: false,
        code: 'AUTH_INVALID_TOKEN',
        reason: 'ticket_reused',
      });
      expect(await a.redeem(ticket)).toMatchObject({ ok: false, reason: 'ticket_reused' });
      expect(await expectEveryKeyToExpire(space)).toEqual([`${space.prefix}ticket-redeemed:${jti}`]);
      // At most the ticket's 60 seconds plus the default 5-second clock tolerance.
      expect(await space.client.pttl(`${space.prefix}ticket-redeemed:${jti}`)).toBeLessThanOrEqual(65_000);
    });

    it('redeemed at once through two instances, it is accepted exactly once', async () => {
      const [a, b] = [await ticketService(), await ticketService()];
      for (let round = 0; round < 20; round += 1) {
        const { ticket } = await a.issue(claims);
        const results = await Promise.all([a.redeem(ticket), b.redeem(ticket)]);
        expect(results.filter((result) => result.ok)).toHaveLength(1);
      }
    });
  });

  cooldownContract('in Redis (RedisMetricsCooldownStore)', async (clock) => {
    const config = validateEnvironment({ ...space.env, ...COOLDOWN_ENV });
    return new RedisMetricsCooldownStore(await connect(COOLDOWN_ENV), config, clock);
  });

  describe('RedisMetricsCooldownStore across instances', () => {
    it('trips at METRICS_FAILURE_LIMIT + 1 failures alternating between two instances, refused by both', async () => {
      const config: AppConfig = validateEnvironment({ ...space.env, ...COOLDOWN_ENV });
      const clock = { now: () => Date.now() };
      const [a, b] = [
        new RedisMetricsCooldownStore(await connect(COOLDOWN_ENV), config, clock),
        new RedisMetricsCooldownStore(await connect(COOLDOWN_ENV), config, clock),
      ];
      const started = [];
      for (let i = 0; i < LIMIT + 1; i += 1)
        started.push(await (i % 2 === 0 ? a : b).recordFailure('192.0.2.77'));
      expect(started).toEqual([false, false, false, true]);
      for (const instance of [a, b]) {
        const remaining = await instance.remaining('192.0.2.77');
        expect(remaining).toBeGreaterThan(COOLDOWN_MS - 1_000);
        expect(remaining).toBeLessThanOrEqual(COOLDOWN_MS);
      }
      expect(await b.remaining('192.0.2.78')).toBe(0);
      const keys = await expectEveryKeyToExpire(space);
      expect(keys).toEqual([`${space.prefix}metrics-cooldown:192.0.2.77`]);
      // It lives as long as its window (longer than the cool-down), and no longer.
      expect(await space.client.pttl(keys[0])).toBeLessThanOrEqual(WINDOW_MS);
    });
  });
});
