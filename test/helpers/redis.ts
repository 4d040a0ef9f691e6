import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL;

/** One test run's corner of Redis: a key prefix of its own, deleted afterwards. */
export interface RedisSpace {
  url: string;
  /** Ends with `:`, like REDIS_PREFIX. */
  prefix: string;
  /** A plain connection, for tests that look at or tamper with the keys. */
  client: Redis;
  /** The environment that points an app at this space (REDIS_URL, REDIS_PREFIX). */
  env: Record<string, string>;
  /** Every key under the prefix, sorted (for leak checks). */
  keys(): Promise<string[]>;
  /** Deletes every key under the prefix and closes the connection. */
  dispose(): Promise<void>;
}

export function newRedisPrefix(): string {
  return `sgtest:${randomBytes(5).toString('hex')}:`;
}

export async function openRedisSpace(url = REDIS_URL!): Promise<RedisSpace> {
  const prefix = newRedisPrefix();
  const client = new Redis(url, { connectionName: `${prefix}test`, maxRetriesPerRequest: 1 });
  const keys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  };
  return {
    url,
    prefix,
    client,
    env: { REDIS_URL: url, REDIS_PREFIX: prefix },
    keys,
    dispose: async () => {
      try {
        const found = await keys();
        for (let i = 0; i < found.length; i += 500) await client.del(...found.slice(i, i + 500));
      } finally {
        client.disconnect();
      }
    },
  };
}

/**
 * `describe` when REDIS_URL is set; otherwise a real skip (`describe.skip`) whose title and a
 * printed line say why, so the totals show the suite as skipped, never as passed.
 */
export function describeOnRedis(title: string, suite: () => void): void {
  if (REDIS_URL) {
    describe(title, suite);
    return;
  }
  process.stdout.write(
    `${title}: skipped because REDIS_URL is not set (e.g. REDIS_URL=redis://127.0.0.1:6379)\n`,
  );
  describe.skip(`${title} (skipped: REDIS_URL not set)`, suite);
}
