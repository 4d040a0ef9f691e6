import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/** Node clamps setTimeout delays above 2^31-1 ms to 1 ms; longer waits are chained instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keyed one-shot timers (disconnect graces, token expiry, RNA timeouts). Scheduling a key again
 * replaces its timer; all timers are cleared on shutdown so the process exits promptly.
 */
@Injectable()
export class Scheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(Scheduler.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();

  schedule(key: string, delayMs: number, task: () => void | Promise<void>): void {
    this.cancel(key);
    const dueAt = Date.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const remaining = dueAt - Date.now();
      const timer = setTimeout(
        () => {
          if (remaining > MAX_TIMER_MS) return arm();
          this.timers.delete(key);
          // A failing task must not crash the process, nor fail silently.
          void Promise.resolve()
            .then(task)
            .catch((error: Error) =>
              this.logger.error(`timer ${key} failed: ${error?.message}`, error?.stack),
            );
        },
        Math.min(Math.max(0, remaining), MAX_TIMER_MS),
      );
      timer.unref();
      this.timers.set(key, timer);
    };
    arm();
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
