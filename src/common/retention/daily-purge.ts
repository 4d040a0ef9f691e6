import type { Logger } from '@nestjs/common';
import type { Scheduler } from '../scheduler.service';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows per delete: small batches, each its own statement, so a purge never holds a table for long. */
export const PURGE_BATCH = 1_000;

/**
 * Runs `purge` at boot and then every day through the Scheduler (which tests drive); a failure is
 * logged and tried again the next day, never thrown at the caller.
 */
export function scheduleDailyPurge(
  scheduler: Scheduler,
  job: string,
  logger: Logger,
  purge: () => Promise<unknown>,
): void {
  const run = async (): Promise<void> => {
    try {
      await purge();
    } catch (error) {
      logger.error(`retention purge failed (retried tomorrow): ${(error as Error).message}`);
    } finally {
      scheduler.schedule(job, DAY_MS, run);
    }
  };
  scheduler.schedule(job, 0, run);
}

/** Calls `deleteBatch(PURGE_BATCH)` until a batch deletes nothing; resolves with how many went. */
export async function purgeInBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let purged = 0;
  for (let deleted = await deleteBatch(PURGE_BATCH); deleted > 0; deleted = await deleteBatch(PURGE_BATCH))
    purged += deleted;
  return purged;
}
