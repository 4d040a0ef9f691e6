import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Scheduler } from '../scheduler.service';
import { RedisConnections } from './redis-connections.service';
import { RedisScript } from './redis-script';

/** How often every instance looks for due deadlines (a dead instance's are at most this late). */
const POLL_MS = 250;
/** Due deadlines claimed per poll. */
const CLAIM_BATCH = 100;
/** A claimed deadline whose instance did not finish it within this long is claimed again. */
const LEASE_MS = 30_000;
/** The deadline sets outlive their longest deadline by this much at least. */
const KEY_TTL_MS = 48 * 3_600_000;

const SET = new RedisScript(__dirname, 'deadline-set.lua', 3);
const CANCEL = new RedisScript(__dirname, 'deadline-cancel.lua', 3);
const CLAIM = new RedisScript(__dirname, 'deadline-claim.lua', 3);
const DONE = new RedisScript(__dirname, 'deadline-done.lua', 3);

interface Job {
  kind: string;
  payload: unknown;
}

/**
 * The Scheduler of a deployment on Redis: deadlines are data in Redis — a sorted set of due times
 * (Redis's own clock), their jobs in a hash — and every instance claims due ones atomically (one
 * script moves each to a leased set), so each fires exactly once cluster-wide, also when the
 * instance that set it has died. The instance that sets a deadline also arms a local timer that
 * claims it the moment it is due; the others poll every 250 ms, so a dead instance's deadlines fire
 * at most that late. A claim whose instance dies before finishing is claimed again after its
 * 30 s lease; handlers re-check the state they act on, so a second run changes nothing.
 *
 * Local timers (`schedule`) stay in this process. Scheduling or cancelling a deadline while Redis
 * is down rejects: the request that needed it fails with INTERNAL_ERROR ("please retry").
 *
 * When the application begins to stop, the instance claims nothing more (the others take what
 * falls due), lets the deadlines it is running finish while its connections are still open, and
 * hands back at once, due now, any it claimed too late to run — rather than let them sit leased.
 */
@Injectable()
export class RedisScheduler extends Scheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly keys: readonly string[];
  private readonly inFlight = new Set<Promise<unknown>>();
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = false;

  constructor(private readonly connections: RedisConnections) {
    super();
    this.keys = [
      connections.key('deadlines'),
      connections.key('deadline-jobs'),
      connections.key('deadlines-running'),
    ];
  }

  onApplicationBootstrap(): void {
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
  }

  /** The deadline in Redis (and the one it replaces cancelled in the same script), then the fast path. */
  protected override async arm(
    member: string,
    kind: string,
    delayMs: number,
    payload: unknown,
    replacing: string | undefined,
  ): Promise<void> {
    const job: Job = { kind, payload };
    const delay = Math.round(delayMs);
    if (replacing !== undefined) await super.cancel(replacing);
    await SET.run(this.connections.command, this.keys, [
      member,
      delay,
      JSON.stringify(job),
      Math.max(KEY_TTL_MS, delay + KEY_TTL_MS),
      ...(replacing !== undefined ? [replacing] : []),
    ]);
    // The fast path: claim it here when it falls due (the poll is the fallback).
    this.schedule(member, delay, async () => {
      await this.claim([member]);
    });
  }

  override async cancel(key: string): Promise<void> {
    await super.cancel(key);
    await CANCEL.run(this.connections.command, this.keys, [key]);
  }

  /** Stops claiming, then waits for the claims and runs in flight (connections are still open). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopClaiming();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  override onApplicationShutdown(): void {
    this.stopClaiming();
    super.onApplicationShutdown();
  }

  private stopClaiming(): void {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }

  /** One poll: claims what is due (one batch at a time) and runs it. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      while (!this.stopped && (await this.claim([])) === CLAIM_BATCH);
    } catch {
      // Redis is down: RedisConnections has said so once; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /**
   * Claims due deadlines (all, or the one named) and runs them; resolves with how many. Nothing
   * once stopping; what a claim in flight brings back after that is handed back, due now.
   */
  private claim(only: readonly string[]): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    const work = (async (): Promise<number> => {
      const claimed = (await CLAIM.run(this.connections.command, this.keys, [
        CLAIM_BATCH,
        LEASE_MS,
        ...only,
      ])) as string[];
      const runs: Promise<void>[] = [];
      for (let i = 0; i < claimed.length; i += 2)
        runs.push(
          this.stopped
            ? this.handBack(claimed[i], claimed[i + 1])
            : this.runClaimed(claimed[i], claimed[i + 1]),
        );
      await Promise.all(runs);
      return claimed.length / 2;
    })();
    this.inFlight.add(work);
    void work.catch(() => undefined).finally(() => this.inFlight.delete(work));
    return work;
  }

  /** A claimed deadline this instance will not run: due again now, for another instance. */
  private async handBack(member: string, jobJson: string): Promise<void> {
    await SET.run(this.connections.command, this.keys, [member, 0, jobJson, KEY_TTL_MS]).catch(
      (error: Error) => {
        // Its lease runs out instead (LEASE_MS): late, never lost.
        this.logger.warn(`deadline ${member} not handed back: ${error?.message}`);
      },
    );
  }

  private async runClaimed(member: string, jobJson: string): Promise<void> {
    await super.cancel(member);
    await this.run(member, async () => {
      const job = JSON.parse(jobJson) as Job;
      await this.handlerOf(job.kind)(job.payload as never);
    });
    await DONE.run(this.connections.command, this.keys, [member]).catch(() => undefined);
  }
}
