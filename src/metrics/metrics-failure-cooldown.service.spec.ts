import type { Clock } from '../common/clock.service';
import type { AppConfig } from '../config/app-config';
import { MetricsFailureCooldown } from './metrics-failure-cooldown.service';

const LIMIT = 3;
const WINDOW_MS = 60_000;
const COOLDOWN_MS = 5_000;
/** The addresses tracked at most (metrics-failure-cooldown.ts). */
const CAP = 10_000;

describe('MetricsFailureCooldown', () => {
  let now: number;
  let cooldown: MetricsFailureCooldown;
  const clock = { now: () => now } as Clock;
  const config = {
    rateLimit: { windowMs: WINDOW_MS },
    metrics: { failureLimit: LIMIT, failureCooldownMs: COOLDOWN_MS },
  } as unknown as AppConfig;

  beforeEach(() => {
    now = 1_700_000_000_000;
    cooldown = new MetricsFailureCooldown(config, clock);
  });

  /** Fails `times` times from `ip`; what each call returned. */
  const fail = (ip: string, times: number): boolean[] =>
    Array.from({ length: times }, () => cooldown.fail(ip));

  it('an address that never failed may try', () => {
    expect(cooldown.remainingMs('10.0.0.1')).toBe(0);
  });

  it('up to METRICS_FAILURE_LIMIT failures are tolerated; the next one starts the cool-down', () => {
    expect(fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(0);
    expect(cooldown.fail('10.0.0.1')).toBe(true);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS);
  });

  it('the cool-down counts down with the clock and ends after METRICS_FAILURE_COOLDOWN_MS', () => {
    fail('10.0.0.1', LIMIT + 1);
    now += 1_234;
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS - 1_234);
    now += COOLDOWN_MS - 1_234 - 1;
    expect(cooldown.remainingMs('10.0.0.1')).toBe(1);
    now += 1;
    expect(cooldown.remainingMs('10.0.0.1')).toBe(0);
  });

  it('after a cool-down the address starts again with a full allowance', () => {
    fail('10.0.0.1', LIMIT + 1);
    now += COOLDOWN_MS;
    expect(fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(0);
    expect(cooldown.fail('10.0.0.1')).toBe(true);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS);
  });

  it('failures are counted per RATE_LIMIT_WINDOW_MS: a new window starts from zero', () => {
    fail('10.0.0.1', LIMIT);
    now += WINDOW_MS;
    // The first failure of the new window, and LIMIT - 1 more, are within the limit.
    expect(fail('10.0.0.1', LIMIT)).toEqual([false, false, false]);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(0);
    expect(cooldown.fail('10.0.0.1')).toBe(true);
  });

  it('the window lasts RATE_LIMIT_WINDOW_MS from its first failure, to the millisecond', () => {
    fail('10.0.0.1', LIMIT);
    now += WINDOW_MS - 1;
    expect(cooldown.fail('10.0.0.1')).toBe(true);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS);
  });

  it('is kept per address', () => {
    fail('10.0.0.1', LIMIT + 1);
    expect(cooldown.remainingMs('10.0.0.2')).toBe(0);
    expect(fail('10.0.0.2', LIMIT)).toEqual([false, false, false]);
    expect(cooldown.remainingMs('10.0.0.2')).toBe(0);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS);
  });

  it('failing again while cooling down neither extends the cool-down nor starts another', () => {
    fail('10.0.0.1', LIMIT + 1);
    now += 1_000;
    expect(fail('10.0.0.1', LIMIT + 1)).toEqual([false, false, false, false]);
    expect(cooldown.remainingMs('10.0.0.1')).toBe(COOLDOWN_MS - 1_000);
  });

  describe(`bounded memory (${CAP} addresses)`, () => {
    const flood = (count: number, prefix: string): void => {
      for (let i = 0; i < count; i += 1) cooldown.fail(`${prefix}${i}`);
    };

    it(`an address is remembered while fewer than ${CAP} others have failed since`, () => {
      fail('203.0.113.1', LIMIT + 1);
      flood(CAP - 1, 'flood-');
      expect(cooldown.remainingMs('203.0.113.1')).toBe(COOLDOWN_MS);
    });

    it(`the least recently failed address is forgotten when the ${CAP + 1}th arrives`, () => {
      fail('203.0.113.1', LIMIT);
      flood(CAP, 'flood-');
      // Remembered, its next failure would start a cool-down; forgotten, it starts from zero.
      expect(fail('203.0.113.1', 1)).toEqual([false]);
    });

    it('an address cooling down is never pushed out, however many others fail', () => {
      fail('203.0.113.1', LIMIT + 1);
      flood(CAP * 2, 'flood-');
      expect(cooldown.remainingMs('203.0.113.1')).toBe(COOLDOWN_MS);
    });

    it('a fresh failure makes an address the most recent again', () => {
      fail('203.0.113.1', LIMIT - 1);
      fail('203.0.113.2', LIMIT - 1);
      flood(CAP - 2, 'flood-');
      // 203.0.113.1 fails again, so 203.0.113.2 is now the least recent and goes first.
      expect(fail('203.0.113.1', 1)).toEqual([false]);
      flood(1, 'late-');
      expect(fail('203.0.113.2', 2)).toEqual([false, false]);
      expect(fail('203.0.113.1', 1)).toEqual([true]);
    });

    it(`after ${CAP * 3} distinct addresses only the last ${CAP} are still counted`, () => {
      flood(CAP * 3, 'flood-');
      // Each flooding address failed once: one still counted cools down on its LIMIT-th failure
      // more, one forgotten starts again from zero and does not.
      const oldestKept = `flood-${CAP * 2}`;
      const newestForgotten = `flood-${CAP * 2 - 1}`;
      expect(fail(oldestKept, LIMIT)).toEqual([false, false, true]);
      expect(fail(newestForgotten, LIMIT)).toEqual([false, false, false]);
      expect(fail('flood-0', LIMIT)).toEqual([false, false, false]);
    });
  });
});
