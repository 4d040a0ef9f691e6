import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { AgentDirectory } from '../src/auth/directory/agent-directory.service';
import { InMemoryDirectoryStore } from '../src/auth/directory/in-memory-directory.store';
import { RedisRevocationFeed } from '../src/auth/directory/redis-revocation-feed';
import { RevocationFeed } from '../src/auth/directory/revocation-feed';
import { RedeemedTickets } from '../src/auth/tickets/redeemed-tickets';
import { RedisRedeemedTickets } from '../src/auth/tickets/redis-redeemed-tickets';
import { ThrottlerStorage } from '@nestjs/throttler';
import { RedisThrottlerStorage } from '../src/common/throttling/redis-throttler.storage';
import { MetricsCooldownStore } from '../src/metrics/metrics-cooldown.store';
import { RedisMetricsCooldownStore } from '../src/metrics/redis-metrics-cooldown.store';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { SecurityEventBus } from '../src/common/security/security-event-bus.service';
import { AppConfig, validateEnvironment } from '../src/config/app-config';
import request from 'supertest';
import { expectLoginRefused, login } from './helpers/agent';
import { disconnected, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';
import { REVOKED_SOCKETS_LOOKUP_MS } from '../src/signaling/session-revocation.gateway';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

const EXAMPLE = join(__dirname, '../config/agents.example.json');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with how long `check` took to hold; rejects past `timeoutMs`. */
async function within(timeoutMs: number, check: () => boolean): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(2);
  }
  return Date.now() - started;
}

describeOnRedis('revocations reach every instance (RedisRevocationFeed)', () => {
  let space: RedisSpace;
  /** The database every instance shares. */
  let database: InMemoryDirectoryStore;
  const open: RedisConnections[] = [];

  /** One "instance": its own Redis connections, feed and directory, booted. */
  async function instance(): Promise<{ directory: AgentDirectory; connections: RedisConnections }> {
    const env = validateEnvironment({ ...space.env, NODE_ENV: 'test' });
    const connections = new RedisConnections(env, new InstanceIdentity());
    await connections.onModuleInit();
    open.push(connections);
    const config = new AppConfig({ ...env, agentsFile: EXAMPLE });
    const directory = new AgentDirectory(
      database,
      config,
      new SecurityEventBus(),
      new RedisRevocationFeed(connections),
    );
    await directory.onModuleInit();
    return { directory, connections };
  }

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    space = await openRedisSpace();
    database = new InMemoryDirectoryStore();
  });
  afterEach(async () => {
    for (const connections of open.splice(0)) await connections.onApplicationShutdown();
    await space.dispose();
    jest.restoreAllMocks();
  });

  it('a revoke on one instance is in force on another within 100 ms, and on one booted later', async () => {
    const [a, b] = [await instance(), await instance()];
    expect(b.directory.revokedAt('agent_ann')).toBeUndefined();

    expect(await a.directory.revoke('agent_ann', 1_733_570_000)).toBe(true);
    expect(a.directory.revokedAt('agent_ann')).toBe(1_733_570_000);
    const took = await within(100, () => b.directory.revokedAt('agent_ann') === 1_733_570_000);
    expect(took).toBeLessThan(100);

    // An earlier time told later never lowers a cached one.
    await b.directory.revoke('agent_ann', 1_733_560_000);
    await sleep(50);
    expect(a.directory.revokedAt('agent_ann')).toBe(1_733_570_000);

    // A later instance reads it from the database at boot.
    const c = await instance();
    expect(c.directory.revokedAt('agent_ann')).toBe(1_733_570_000);
    // Pub/sub writes nothing: no key is left behind (so none without a TTL either).
    expect(await space.keys()).toEqual([]);
  });

  it('an instance whose subscription dropped reloads what it may have missed once it is back', async () => {
    const [, b] = [await instance(), await instance()];
    // Stored by an instance whose message B never heard (B's subscriber was away meanwhile).
    await database.saveRevocation('agent_bob', 1_733_580_000);
    const subscribers = String(await space.client.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${space.prefix}`) && line.includes(':revocations-sub '))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]);
    // One per instance, named alike: drop them both.
    expect(subscribers).toHaveLength(2);
    for (const id of subscribers) await space.client.client('KILL', 'ID', id);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await within(3_000, () => b.directory.revokedAt('agent_bob') === 1_733_580_000);
  });

  it('a malformed message on the channel is ignored', async () => {
    const { directory } = await instance();
    await space.client.publish(`${space.prefix}revocations`, '{"agentId":42}');
    await space.client.publish(`${space.prefix}revocations`, 'not json');
    await space.client.publish(
      `${space.prefix}revocations`,
      JSON.stringify({ agentId: 'agent_ann', atSec: 1_733_590_000 }),
    );
    await within(100, () => directory.revokedAt('agent_ann') === 1_733_590_000);
    expect(directory.revokedAt('42')).toBeUndefined();
  });
});

describeOnRedis('revocation across two app instances sharing Redis', () => {
  let space: RedisSpace;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    space = await openRedisSpace();
    // Each app has its own SQLite file: what one stores the other only hears through Redis.
    a = await startApp(space.env);
    b = await startApp(space.env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await space.dispose();
  });

  it('a revoke through A disconnects the agent’s socket held by B, which refuses the old token at once', async () => {
    const oldToken = await mintHs256({ sub: fixtures.agent.userId });
    const tab = await login(b, oldToken);
    const seen: string[] = [];
    tab.socket.on('session:revoked', () => seen.push('session:revoked'));
    const closed = disconnected(tab.socket);

    const response = await request(a.app.getHttpServer())
      .post(`/admin/agents/${fixtures.agent.agentId}/revoke`)
      .set('Authorization', `Bearer ${await mintHs256({ sub: fixtures.admin.userId })}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revokedAt: expect.any(String), disconnected: 1 });
    expect(await closed).toBe('io server disconnect');
    expect(seen).toEqual(['session:revoked']);

    await expectLoginRefused(b, { agentId: fixtures.agent.agentId, token: oldToken }, 'AUTH_REVOKED');
    const ticket = await request(b.app.getHttpServer())
      .post('/auth/ws-ticket')
      .set('Authorization', `Bearer ${oldToken}`);
    expect(ticket.body.code).toBe('AUTH_REVOKED');
  });

  it('a ticket redeemed at one instance is refused at the other', async () => {
    const token = await mintHs256({ sub: fixtures.otherAgent.userId });
    const exchange = await request(a.app.getHttpServer())
      .post('/auth/ws-ticket')
      .set('Authorization', `Bearer ${token}`);
    expect(exchange.status).toBe(200);
    const ticket = (exchange.body as { ticket: string }).ticket;
    const first = await login(a, ticket, fixtures.otherAgent.agentId);
    expect(first.state).toBeDefined();
    await expectLoginRefused(
      b,
      { agentId: fixtures.otherAgent.agentId, token: ticket },
      'AUTH_INVALID_TOKEN',
    );
    first.socket.disconnect();
  });

  it('an instance that never answers delays the revoke by the lookup timeout only, and every socket still goes', async () => {
    // A "dead" instance: counted by the adapter (it listens on the request channel), never answering.
    const ghost = space.client.duplicate();
    await ghost.subscribe(`${space.prefix}socket.io-request#/#`);
    try {
      const tab = await login(
        b,
        await mintHs256({ sub: fixtures.otherAgent.userId }),
        fixtures.otherAgent.agentId,
      );
      const seen: string[] = [];
      tab.socket.on('session:revoked', () => seen.push('session:revoked'));
      const closed = disconnected(tab.socket, 5_000);
      const started = Date.now();
      const response = await request(a.app.getHttpServer())
        .post(`/admin/agents/${fixtures.otherAgent.agentId}/revoke`)
        .set('Authorization', `Bearer ${await mintHs256({ sub: fixtures.admin.userId })}`);
      const took = Date.now() - started;
      expect(response.status).toBe(200);
      // Only A's own sockets (none) could be counted; B's was still told and disconnected.
      expect(response.body).toEqual({ revokedAt: expect.any(String), disconnected: 0 });
      expect(took).toBeGreaterThanOrEqual(REVOKED_SOCKETS_LOOKUP_MS - 50);
      expect(took).toBeLessThan(REVOKED_SOCKETS_LOOKUP_MS + 800);
      expect(await closed).toBe('io server disconnect');
      expect(seen).toEqual(['session:revoked']);
    } finally {
      ghost.disconnect();
    }
  });

  it('uses the Redis twins of every shared counter, whose keys all expire', async () => {
    for (const app of [a, b]) {
      expect(app.app.get(ThrottlerStorage)).toBeInstanceOf(RedisThrottlerStorage);
      expect(app.app.get(RedeemedTickets)).toBeInstanceOf(RedisRedeemedTickets);
      expect(app.app.get(RevocationFeed)).toBeInstanceOf(RedisRevocationFeed);
      expect(app.app.get(MetricsCooldownStore)).toBeInstanceOf(RedisMetricsCooldownStore);
    }
    // The scenarios above spent HTTP, socket and failed-login budgets and redeemed a ticket.
    const keys = (await space.keys()).filter((key) =>
      /^(throttle|ticket-redeemed|metrics-cooldown):/.test(key.slice(space.prefix.length)),
    );
    expect(keys.some((key) => key.includes(':throttle:login-failures|'))).toBe(true);
    expect(keys.some((key) => key.includes(':throttle:ws|agent:login|'))).toBe(true);
    expect(keys.some((key) => key.includes(':ticket-redeemed:'))).toBe(true);
    for (const key of keys)
      expect({ key, ttl: (await space.client.pttl(key)) > 0 }).toEqual({ key, ttl: true });
  });
});
