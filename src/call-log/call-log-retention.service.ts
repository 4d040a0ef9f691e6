import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock.service';
import { DAY_MS, purgeInBatches, scheduleDailyPurge } from '../common/retention/daily-purge';
import { Scheduler } from '../common/scheduler.service';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig } from '../config/app-config';
import { CallLogStore } from './call-log.store';

const JOB = 'call-log:retention';

/**
 * Deletes rows of calls that ended more than CALL_LOG_RETENTION_DAYS ago, at boot and then daily.
 * A running call's row is never deleted, however old. Each purge is logged and recorded in the
 * audit trail (`audit.retention_purge`, `details.table: 'call_log'`).
 */
@Injectable()
export class CallLogRetention implements OnApplicationBootstrap {
  private readonly logger = new Logger(CallLogRetention.name);

  constructor(
    private readonly store: CallLogStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly bus: SecurityEventBus,
  ) {}

  onApplicationBootstrap(): void {
    scheduleDailyPurge(this.scheduler, JOB, this.logger, () => this.purge());
  }

  /** Purges what is past the horizon now; returns how many rows went. */
  async purge(): Promise<number> {
    const { retentionDays } = this.config.callLog;
    const cutoffMs = this.clock.now() - retentionDays * DAY_MS;
    const purged = await purgeInBatches((limit) => this.store.purgeBatch(cutoffMs, limit));
    if (purged > 0) {
      const cutoff = new Date(cutoffMs).toISOString();
      this.logger.log(`purged ${purged} call log rows of calls ended before ${cutoff}`);
      this.bus.publish({
        type: 'audit.retention_purge',
        outcome: 'success',
        source: { transport: 'system' },
        details: { table: 'call_log', count: purged, cutoff, retentionDays },
      });
    }
    return purged;
  }
}
