import { Scheduler } from '../../src/common/scheduler.service';

/**
 * The real (in-process) Scheduler, plus the power to fire pending timers and deadlines now: tests of long timers (a call's
 * maximum duration is at least a minute) run them instead of waiting. Inject with
 * `startApp(env, 0, { overrides: [{ provide: Scheduler, useValue: new TestScheduler() }] })`.
 */
export class TestScheduler extends Scheduler {
  private readonly tasks = new Map<string, () => void | Promise<void>>();

  override schedule(key: string, delayMs: number, task: () => void | Promise<void>): void {
    // After super.schedule: it begins by cancelling the key, which would forget the task.
    super.schedule(key, delayMs, () => {
      this.tasks.delete(key);
      return task();
    });
    // After shutdown nothing is armed, so nothing is pending either.
    if (!this.shuttingDown) this.tasks.set(key, task);
  }

  override cancel(key: string): Promise<void> {
    this.tasks.delete(key);
    return super.cancel(key);
  }

  /** Keys of the pending timers starting with `prefix`. */
  pending(prefix: string): string[] {
    return [...this.tasks.keys()].filter((key) => key.startsWith(prefix));
  }

  /** Runs every pending timer whose key starts with `prefix` now; resolves with how many ran. */
  async fire(prefix: string): Promise<number> {
    const keys = this.pending(prefix);
    for (const key of keys) {
      const task = this.tasks.get(key)!;
      await this.cancel(key);
      await task();
    }
    return keys.length;
  }
}
