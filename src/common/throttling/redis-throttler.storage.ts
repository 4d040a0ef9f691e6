import type { ThrottlerStorage } from '@nestjs/throttler';
import { RedisConnections } from '../redis/redis-connections.service';
import { RedisScript } from '../redis/redis-script';

/** What `increment` resolves with (the library does not export the record's type). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const INCREMENT = new RedisScript(__dirname, 'throttler-increment.lua', 2);

/**
 * How much longer than the records need every key lives: their times are the caller's clock, the
 * TTLs Redis's, and a key gone early would forget hits, whereas one kept a little longer changes no
 * answer (hits count by their expiry scores; an expired window or block is renewed or ended exactly
 * as for a fresh record).
 */
export const THROTTLE_KEY_SLACK_MS = 1_000;

/**
 * @nestjs/throttler's storage in Redis, so that every budget (HTTP, socket events, failed logins)
 * is one budget across the instances sharing it. Each `increment` is one run of
 * `throttler-increment.lua`, which keeps exactly the records of the library's in-memory
 * ThrottlerStorageService (6.x) and answers exactly what it answers, in the same units (hit
 * counts; whole seconds, rounded up): per storage key a hash `throttle:<key>` (window end, block
 * end, blocked) and per throttler on it a sorted set `throttle:<key>:hits:<throttler>` of hit
 * expiries. Every key expires once the library would have been free to sweep it (plus
 * {@link THROTTLE_KEY_SLACK_MS}).
 *
 * The time is this process's clock, as the library's (`now`, epoch milliseconds); instances are
 * expected to keep their clocks in step (NTP), as token expiry already requires.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly connections: RedisConnections,
    private readonly now: () => number = () => Date.now(),
    private readonly keySlackMs = THROTTLE_KEY_SLACK_MS,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const record = this.connections.key('throttle', key);
    const reply = (await INCREMENT.run(
      this.connections.command,
      [record, `${record}:hits:${throttlerName}`],
      [this.now(), ttl, limit, blockDuration, this.keySlackMs],
    )) as [number, number, number, number];
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = reply;
    return { totalHits, timeToExpire, isBlocked: isBlocked === 1, timeToBlockExpire };
  }
}

/**
 * The throttler storage for ThrottlerModule's options: Redis when REDIS_URL is set; otherwise
 * undefined, which lets the module create its own in-memory ThrottlerStorageService (the default).
 */
export function throttlerStorageFor(connections: RedisConnections): ThrottlerStorage | undefined {
  return connections.enabled ? new RedisThrottlerStorage(connections) : undefined;
}
