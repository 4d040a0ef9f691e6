import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock.service';
import { Scheduler } from '../common/scheduler.service';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { validateEnvironment } from '../config/app-config';
import { CallLogRecord, endedRecord, startedRecord } from './call-log-record';
import { CallLogRetention } from './call-log-retention.service';
import { InMemoryCallLogStore } from './in-memory-call-log.store';

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

function call(n: number, startedAt: number, endedAt?: number): CallLogRecord {
  const entry = {
    callLogId: `0193a5b0-0000-7000-8000-${String(n).padStart(12, '0')}`,
    callId: `call_${n}`,
    orgId: 'org_a',
    agentId: 'agent_a1',
    visitorId: `visitor_${n}`,
    pageUrl: 'https://www.a.example/',
    requestedAt: startedAt - 1_000,
    startedAt,
  };
  return endedAt === undefined
    ? startedRecord(entry)
    : endedRecord({ ...entry, endedAt, endReason: 'agent_ended' });
}

describe('CallLogRetention', () => {
  let store: InMemoryCallLogStore;
  let bus: SecurityEventBus;
  let published: SecurityEvent[];
  let clock: FixedClock;
  let scheduler: Scheduler;
  let running: CallLogRecord;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    store = new InMemoryCallLogStore();
    // One call a day for 200 days, each ending an hour after it started at midday...
    const daily = Array.from({ length: 200 }, (_, i) =>
      call(i, NOW - (199 - i) * DAY - 3_600_000, NOW - (199 - i) * DAY),
    );
    // ...and one that started a year ago and never ended.
    running = call(999, NOW - 365 * DAY);
    await store.upsert([...daily, running]);
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

  const retention = (days: string): CallLogRetention =>
    new CallLogRetention(
      store,
      validateEnvironment({ CALL_LOG_RETENTION_DAYS: days }),
      clock,
      scheduler,
      bus,
    );

  it('purges calls that ended before the horizon, never a running one, and records the purge', async () => {
    // Calls that ended 91..199 days ago are past a 90-day horizon; the one that ended exactly 90 days ago stays.
    expect(await retention('90').purge()).toBe(109);
    const left = await store.list({}, 1_000);
    expect(left).toHaveLength(92);
    expect(left).toContainEqual(running);
    expect(left.every((row) => row.endedAt === null || row.endedAt >= NOW - 90 * DAY)).toBe(true);
    expect(published).toEqual([
      expect.objectContaining({
        type: 'audit.retention_purge',
        outcome: 'success',
        source: { transport: 'system' },
        details: {
          table: 'call_log',
          count: 109,
          cutoff: new Date(NOW - 90 * DAY).toISOString(),
          retentionDays: 90,
        },
      }),
    ]);
  });

  it('follows the clock: a day later one more call goes; nothing to purge publishes nothing', async () => {
    const job = retention('90');
    await job.purge();
    published.length = 0;
    expect(await job.purge()).toBe(0);
    expect(published).toEqual([]);
    clock.at = NOW + DAY;
    expect(await job.purge()).toBe(1);
  });

  it('purges more than one batch of 1,000', async () => {
    await store.upsert(
      Array.from({ length: 2_500 }, (_, i) => call(10_000 + i, NOW - 400 * DAY, NOW - 399 * DAY)),
    );
    expect(await retention('90').purge()).toBe(2_609);
  });

  it('runs at boot and schedules itself daily', async () => {
    const job = retention('30');
    job.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(scheduler.has('call-log:retention')).toBe(true);
    // 31 ended calls (0..30 days ago) and the running one.
    expect(await store.list({}, 1_000)).toHaveLength(32);
  });
});
