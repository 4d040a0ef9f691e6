import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

/**
 * One Lua script, loaded from the `.lua` file beside the store that runs it (copied into `dist` by
 * the build), run by its SHA with a fallback to the full text the first time a server lacks it
 * (a restarted or failed-over Redis). Each run is one atomic step on the server.
 */
export class RedisScript {
  /** The script's text, for a transaction that must EVAL it (a MULTI cannot fall back on NOSCRIPT). */
  readonly source: string;

  constructor(
    dir: string,
    file: string,
    private readonly numberOfKeys: number,
  ) {
    this.source = readFileSync(join(dir, file), 'utf8');
  }

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[] = []): Promise<unknown> {
    if (keys.length !== this.numberOfKeys)
      throw new Error(`script expects ${this.numberOfKeys} keys, got ${keys.length}`);
    return this.evaluate(redis, keys, args);
  }

  private sha: string | null = null;

  private async evaluate(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    this.sha ??= (await redis.script('LOAD', this.source)) as string;
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
