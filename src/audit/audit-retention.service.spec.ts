import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock.service';
import { Scheduler } from '../common/scheduler.service';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { validateEnvironment } from '../config/app-config';
import { hashRecord } from './audit-hash';
import { AuditRecord, GENESIS_HASH } from './audit-record';
import { AuditRetention } from './audit-retention.service';
import { AuditVerifier } from './audit-verifier.service';
import { InMemoryAuditStore } from './in-memory-audit.store';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2026-11-30T12:00:00.000Z');

/** A clock the test sets: retention is decided by it, never by the wall clock. */
class FixedClock extends Clock {
  constructor(public at: number) {
    super();
  }
  override now(): number {
    return this.at;
  }
}

/** One record per day for `days` days up to NOW, in one chain. */
function dailyChain(days: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < days; i += 1) {
    const unsigned: Omit<AuditRecord, 'hash'> = {
      id: `0000${String(i).padStart(6, '0')}`,
      occurredAt: new Date(NOW - (days - 1 - i) * DAY).toISOString(),
      type: 'auth.login',
      outcome: 'success',
      actor: { userId: 'u-1' },
      source: { transport: 'ws' },
      chain: 'c1',
      seq: i,
      prevHash,
    };
    const record = { ...unsigned, hash: hashRecord(unsigned) };
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

describe('AuditRetention', () => {
  let store: InMemoryAuditStore;
  let bus: SecurityEventBus;
  let published: SecurityEvent[];
  let clock: FixedClock;
  let scheduler: Scheduler;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    store = new InMemoryAuditStore();
    await store.append(dailyChain(200));
    bus = new SecurityEventBus();
    published = [];
    bus.subscribe((event) => published.push(event));
    clock = new FixedClock(NOW);
    scheduler = new Scheduler();
  });
  afterEach(() => {
    scheduler.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  const retention = (days: string): AuditRetention =>
    new AuditRetention(store, validateEnvironment({ AUDIT_RETENTION_DAYS: days }), clock, scheduler, bus);

  it('purges records older than the horizon, records the purge, and leaves a verifiable chain', async () => {
    // Records 91..199 days old are past a 90-day horizon; the one exactly 90 days old stays.
    expect(await retention('90').purge()).toBe(109);
    const left = await store.list({}, 1_000);
    expect(left).toHaveLength(91);
    expect(left.every((record) => record.occurredAt >= new Date(NOW - 90 * DAY).toISOString())).toBe(true);
    expect(published).toEqual([
      expect.objectContaining({
        type: 'audit.retention_purge',
        outcome: 'success',
        source: { transport: 'system' },
        details: { count: 109, cutoff: new Date(NOW - 90 * DAY).toISOString(), retentionDays: 90 },
      }),
    ]);
    expect(await new AuditVerifier(store).verify()).toEqual({ ok: true, checked: 91 });
  });

  it('follows the clock: a day later one more record goes; nothing to purge records nothing', async () => {
    const job = retention('90');
    await job.purge();
    published.length = 0;
    expect(await job.purge()).toBe(0);
    expect(published).toEqual([]);
    clock.at = NOW + DAY;
    expect(await job.purge()).toBe(1);
    expect(await new AuditVerifier(store).verify()).toEqual({ ok: true, checked: 90 });
  });

  it('runs at boot and schedules itself daily', async () => {
    const job = retention('30');
    const purge = jest.spyOn(job, 'purge');
    job.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(purge).toHaveBeenCalledTimes(1);
    expect(scheduler.has('audit:retention')).toBe(true);
    expect(await store.list({}, 1_000)).toHaveLength(31);
  });
});
