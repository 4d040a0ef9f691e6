import { RedisConnections } from '../common/redis/redis-connections.service';
import { RedisScript } from '../common/redis/redis-script';
import { Clock } from '../common/clock.service';
import { AppConfig } from '../config/app-config';
import { MetricsFailureCooldown } from './metrics-failure-cooldown.service';
import { MetricsCooldownStore } from './metrics-cooldown.store';

const FAIL = new RedisScript(__dirname, 'metrics-cooldown.lua', 1);

/**
 * MetricsFailureCooldown's rules, shared by every instance: an address guessing keys at several
 * instances earns one cool-down, after METRICS_FAILURE_LIMIT failures in all, and is refused by
 * all of them. One hash per address, `metrics-cooldown:<ip>` (count, window start, cool-down
 * end); a failure is one run of `metrics-cooldown.lua`, a check one HGET. Each key expires as soon
 * as it stops mattering (its window is over and its cool-down too), which also bounds how many
 * are kept: the in-memory cap on tracked addresses exists to bound one process's heap, and is not
 * needed here.
 */
export class RedisMetricsCooldownStore extends MetricsCooldownStore {
  constructor(
    private readonly connections: RedisConnections,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    super();
  }

  async remaining(ip: string): Promise<number> {
    const coolingUntil = await this.connections.command.hget(this.keyOf(ip), 'coolingUntil');
    return coolingUntil === null ? 0 : Math.max(0, Number(coolingUntil) - this.clock.now());
  }

  async recordFailure(ip: string): Promise<boolean> {
    const { failureLimit, failureCooldownMs } = this.config.metrics;
    const started = await FAIL.run(
      this.connections.command,
      [this.keyOf(ip)],
      [this.clock.now(), this.config.rateLimit.windowMs, failureLimit, failureCooldownMs],
    );
    return started === 1;
  }

  private keyOf(ip: string): string {
    return this.connections.key('metrics-cooldown', ip);
  }
}

/** Redis when REDIS_URL is set (one cool-down across the instances), else this process's own. */
export function metricsCooldownStoreFor(
  connections: RedisConnections,
  config: AppConfig,
  clock: Clock,
  inMemory: MetricsFailureCooldown,
): MetricsCooldownStore {
  return connections.enabled ? new RedisMetricsCooldownStore(connections, config, clock) : inMemory;
}
