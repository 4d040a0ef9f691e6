import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/** Node clamps setTimeout delays above 2^31-1 ms to 1 ms; longer waits are chained instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a deadline runs when it falls due: registered once per kind, at boot, by its owner. */
export type DeadlineHandler<P> = (payload: P) => void | Promise<void>;

/**
 * Keyed one-shot timers, of two sorts:
 *
 * - **Local timers** (`schedule`) run a closure in this process: for what lives and dies with it
 *   (a socket's token expiry, a sweep, a daily purge).
 * - **Deadlines** (`deadline`) are data — a kind and a JSON payload — run by the handler that the
 *   kind's owner registered with `define`: a ring-no-answer, a reconnect grace, a call's maximum
 *   duration, a disconnect grace. Here they are timers of this process; with Redis
 *   (`RedisScheduler`) they are stored with their due time and fire once cluster-wide, even when
 *   the instance that set them has died.
 *
 * Scheduling a key again replaces it; `cancel` takes either sort; everything is cleared on
 * shutdown so the process exits promptly. A failing task is logged, never thrown.
 */
@Injectable()
export class Scheduler implements OnApplicationShutdown {
  protected readonly logger = new Logger(Scheduler.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly handlers = new Map<string, DeadlineHandler<never>>();
  private shutDown = false;

  schedule(key: string, delayMs: number, task: () => void | Promise<void>): void {
    this.clearLocal(key);
    // A task that re-arms itself (a sweep) and was running when the app stopped ends here.
    if (this.shutDown) return;
    const dueAt = Date.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const remaining = dueAt - Date.now();
      const timer = setTimeout(
        () => {
          if (remaining > MAX_TIMER_MS) return arm();
          this.timers.delete(key);
          if (!this.shutDown) void this.run(key, task);
        },
        Math.min(Math.max(0, remaining), MAX_TIMER_MS),
      );
      timer.unref();
      this.timers.set(key, timer);
    };
    arm();
  }

  /** Registers the handler of a kind of deadline (one per kind). */
  define<P>(kind: string, handler: DeadlineHandler<P>): void {
    if (this.handlers.has(kind)) throw new Error(`deadline kind ${kind} is already defined`);
    this.handlers.set(kind, handler as DeadlineHandler<never>);
  }

  /**
   * Runs the `kind` handler with `payload` after `delayMs`, under the key `kind:id`. With
   * `replacing`, the deadline of that key is cancelled in the same step (a call's duration timer
   * taking over from its request's ring timer).
   */
  async deadline<P>(
    kind: string,
    id: string,
    delayMs: number,
    payload: P,
    options: { replacing?: string } = {},
  ): Promise<void> {
    // An unknown kind rejects (as everything else a deadline can fail with does).
    this.handlerOf(kind);
    return this.arm(deadlineKey(kind, id), kind, Math.max(0, delayMs), payload, options.replacing);
  }

  /** Stores a deadline of a known kind under `key`, in place of `replacing` if given: here, a timer. */
  protected arm(
    key: string,
    kind: string,
    delayMs: number,
    payload: unknown,
    replacing: string | undefined,
  ): Promise<void> {
    if (replacing !== undefined) void this.cancel(replacing);
    this.schedule(key, delayMs, () => this.handlerOf(kind)(payload as never));
    return Promise.resolve();
  }

  /** Cancels a local timer or a deadline (`kind:id`). */
  cancel(key: string): Promise<void> {
    this.clearLocal(key);
    return Promise.resolve();
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  /** True once the application began to stop: nothing new is armed from then on. */
  protected get shuttingDown(): boolean {
    return this.shutDown;
  }

  onApplicationShutdown(): void | Promise<void> {
    this.shutDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  protected handlerOf<P>(kind: string): DeadlineHandler<P> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler defined for deadline kind ${kind}`);
    return handler as DeadlineHandler<P>;
  }

  protected async run(key: string, task: () => void | Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      const failure = error as Error;
      this.logger.error(`timer ${key} failed: ${failure?.message}`, failure?.stack);
    }
  }

  private clearLocal(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }
}

export const deadlineKey = (kind: string, id: string): string => `${kind}:${id}`;
