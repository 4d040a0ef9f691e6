import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.service';
import { AppConfig } from '../config/app-config';
import { MetricsCooldownStore } from './metrics-cooldown.store';

interface Failures {
  count: number;
  windowStart: number;
  coolingUntil: number;
}

/** Addresses tracked at most; beyond it the stalest entry is forgotten (a flood cannot grow memory). */
const MAX_TRACKED = 10_000;

/**
 * Repeated failed /metrics attempts from one address earn it a cool-down (PROTOCOL §4 step 5):
 * more than METRICS_FAILURE_LIMIT wrong keys within RATE_LIMIT_WINDOW_MS, and every request from it is
 * answered 429 — the right key included — for METRICS_FAILURE_COOLDOWN_MS. This is the in-memory
 * ledger, one process's; with REDIS_URL set, RedisMetricsCooldownStore keeps the same rules for
 * every instance at once (MetricsCooldownStore is the port both answer through).
 */
@Injectable()
export class MetricsFailureCooldown extends MetricsCooldownStore {
  private readonly byAddress = new Map<string, Failures>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    super();
  }

  remaining(ip: string): Promise<number> {
    return Promise.resolve(this.remainingMs(ip));
  }

  recordFailure(ip: string): Promise<boolean> {
    return Promise.resolve(this.fail(ip));
  }

  /** Milliseconds left of this address's cool-down, 0 when it may try. */
  remainingMs(ip: string): number {
    const entry = this.byAddress.get(ip);
    return entry ? Math.max(0, entry.coolingUntil - this.clock.now()) : 0;
  }

  /** Counts a wrong key; true when it starts a cool-down. */
  fail(ip: string): boolean {
    const now = this.clock.now();
    const { failureLimit, failureCooldownMs } = this.config.metrics;
    let entry = this.byAddress.get(ip);
    if (!entry || now - entry.windowStart >= this.config.rateLimit.windowMs) {
      entry = { count: 0, windowStart: now, coolingUntil: entry?.coolingUntil ?? 0 };
    }
    entry.count += 1;
    this.byAddress.delete(ip); // re-inserted last: the Map's order is then least recently failed first
    this.byAddress.set(ip, entry);
    if (this.byAddress.size > MAX_TRACKED) this.forgetOne(now);
    if (entry.count > failureLimit && entry.coolingUntil <= now) {
      entry.coolingUntil = now + failureCooldownMs;
      entry.count = 0;
      return true;
    }
    return false;
  }

  /**
   * Makes room: the least recently failed address that is not cooling down is forgotten, so that
   * failing from many fresh addresses cannot push a cooling one out and lift its cool-down.
   */
  private forgetOne(now: number): void {
    // The entry just added is never cooling, so one is always found.
    for (const [address, entry] of this.byAddress) {
      if (entry.coolingUntil <= now) {
        this.byAddress.delete(address);
        return;
      }
    }
  }
}
