import { Logger } from '@nestjs/common';
import { InstanceIdentity } from '../src/common/instance-identity';
import { RedisConnections } from '../src/common/redis/redis-connections.service';
import { RedisScheduler } from '../src/common/redis/redis-scheduler.service';
import { validateEnvironment } from '../src/config/app-config';
import { describeOnRedis, openRedisSpace, RedisSpace } from './helpers/redis';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describeOnRedis('RedisScheduler: deadlines fire once cluster-wide', () => {
  let space: RedisSpace;
  const open: { connections: RedisConnections; scheduler: RedisScheduler }[] = [];
  let fired: { instance: string; payload: { n: number } }[];

  /** One "instance": its own connections and scheduler, the kind `test:job` defined. */
  async function instance(name: string): Promise<RedisScheduler> {
    const connections = new RedisConnections(validateEnvironment(space.env), new InstanceIdentity());
    await connections.onModuleInit();
    const scheduler = new RedisScheduler(connections);
    scheduler.define<{ n: number }>('test:job', (payload) => {
      fired.push({ instance: name, payload });
    });
    scheduler.onApplicationBootstrap();
    open.push({ connections, scheduler });
    return scheduler;
  }

  async function stop(scheduler: RedisScheduler): Promise<void> {
    const index = open.findIndex((entry) => entry.scheduler === scheduler);
    const [entry] = open.splice(index, 1);
    entry.scheduler.onApplicationShutdown();
    await entry.connections.onApplicationShutdown();
  }

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    space = await openRedisSpace();
    fired = [];
  });
  afterEach(async () => {
    for (const entry of open.splice(0)) {
      entry.scheduler.onApplicationShutdown();
      await entry.connections.onApplicationShutdown();
    }
    await space.dispose();
    jest.restoreAllMocks();
  });

  it('runs a deadline once, on time, while three instances poll', async () => {
    const [a] = [await instance('a'), await instance('b'), await instance('c')];
    const setAt = Date.now();
    await a.deadline('test:job', 'one', 150, { n: 1 });
    await until(() => fired.length > 0);
    const late = Date.now() - setAt;
    await sleep(600);
    expect(fired).toEqual([{ instance: 'a', payload: { n: 1 } }]);
    expect(late).toBeGreaterThanOrEqual(140);
    // Everything it used is gone once it ran.
    expect(await space.client.zcard(`${space.prefix}deadlines`)).toBe(0);
    expect(await space.client.hlen(`${space.prefix}deadline-jobs`)).toBe(0);
  });

  it('fires a deadline on a survivor when the instance that set it is gone', async () => {
    const a = await instance('a');
    await instance('b');
    await a.deadline('test:job', 'orphan', 200, { n: 2 });
    await stop(a);
    await until(() => fired.length > 0);
    await sleep(400);
    expect(fired).toEqual([{ instance: 'b', payload: { n: 2 } }]);
  });

  it('a cancel on any instance cancels it everywhere; setting a key again replaces it', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.deadline('test:job', 'cancelled', 150, { n: 3 });
    await b.cancel('test:job:cancelled');
    await a.deadline('test:job', 'replaced', 100, { n: 4 });
    await b.deadline('test:job', 'replaced', 250, { n: 5 });
    await sleep(700);
    expect(fired.map((entry) => entry.payload)).toEqual([{ n: 5 }]);
  });

  it('a deadline set in place of another cancels that one everywhere, in the same step', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.deadline('test:job', 'ring', 150, { n: 9 });
    await b.deadline('test:job', 'call', 250, { n: 10 }, { replacing: 'test:job:ring' });
    await sleep(700);
    expect(fired.map((entry) => entry.payload)).toEqual([{ n: 10 }]);
    expect(await space.client.hlen(`${space.prefix}deadline-jobs`)).toBe(0);
  });

  it('fires many deadlines, each exactly once, when they are due together', async () => {
    const instances = [await instance('a'), await instance('b')];
    await Promise.all(
      Array.from({ length: 300 }, (_, n) => instances[n % 2].deadline('test:job', `many:${n}`, 50, { n })),
    );
    await until(() => fired.length >= 300);
    await sleep(500);
    const seen = fired.map((entry) => entry.payload.n).sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('keeps its keys under the prefix, each with a TTL', async () => {
    const a = await instance('a');
    await a.deadline('test:job', 'later', 60_000, { n: 6 });
    const keys = await space.keys();
    const names = ['deadline-jobs', 'deadlines'].map((name) => `${space.prefix}${name}`);
    expect(keys).toEqual(expect.arrayContaining(names));
    expect(keys.every((key) => [...names, `${space.prefix}deadlines-running`].includes(key))).toBe(true);
    for (const key of keys) expect(await space.client.pttl(key)).toBeGreaterThan(0);
  });

  it('an instance that begins to stop claims nothing more: what falls due runs on the others', async () => {
    const a = await instance('a');
    await instance('b');
    await a.deadline('test:job', 'handover', 150, { n: 7 });
    await a.beforeApplicationShutdown();
    await until(() => fired.length > 0);
    await sleep(300);
    expect(fired).toEqual([{ instance: 'b', payload: { n: 7 } }]);
  });

  it('stopping waits for the deadlines it is running, and marks them done while Redis still answers', async () => {
    const a = await instance('a');
    let started = false;
    let finished = false;
    a.define('test:slow', async () => {
      started = true;
      await sleep(300);
      finished = true;
    });
    await a.deadline('test:slow', 'x', 20, {});
    await until(() => started);
    const stopping = a.beforeApplicationShutdown();
    expect(finished).toBe(false);
    await stopping;
    expect(finished).toBe(true);
    expect(await space.client.zcard(`${space.prefix}deadlines-running`)).toBe(0);
    expect(await space.client.zcard(`${space.prefix}deadlines`)).toBe(0);
  });

  it('hands back, due at once, what a claim brought in after stopping began', async () => {
    // Set by an instance that is gone at once: due now, and nobody has claimed it yet.
    const setter = await instance('setter');
    await setter.deadline('test:job', 'back', 0, { n: 8 });
    await stop(setter);
    const a = await instance('a');
    // A claim in flight (the poll's, called directly so that it is in flight now) when stopping begins.
    const claiming = (a as unknown as { claim(only: string[]): Promise<number> }).claim([]);
    await a.beforeApplicationShutdown();
    expect(await claiming).toBe(1);
    expect(fired).toEqual([]);
    expect(await space.client.zscore(`${space.prefix}deadlines`, 'test:job:back')).not.toBeNull();
    expect(await space.client.zcard(`${space.prefix}deadlines-running`)).toBe(0);
    // Another instance runs it, once.
    await instance('b');
    await until(() => fired.length > 0);
    await sleep(300);
    expect(fired).toEqual([{ instance: 'b', payload: { n: 8 } }]);
  });

  it('refuses a deadline of a kind nobody defined, and a second definition of a kind', async () => {
    const a = await instance('a');
    await expect(a.deadline('test:unknown', 'x', 10, {})).rejects.toThrow(/no handler/);
    expect(() => a.define('test:job', () => undefined)).toThrow(/already defined/);
  });
});
