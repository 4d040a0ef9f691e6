import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock.service';
import { DAY_MS, purgeInBatches, scheduleDailyPurge } from '../common/retention/daily-purge';
import { Scheduler } from '../common/scheduler.service';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig } from '../config/app-config';
import { AuditStore } from './audit.store';

const JOB = 'audit:retention';

/**
 * Deletes records older than AUDIT_RETENTION_DAYS at boot and then daily. Each purge is itself
 * recorded (`audit.retention_purge` with the count); chains stay verifiable from their new anchors.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditRetention.name);

  constructor(
    private readonly store: AuditStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly bus: SecurityEventBus,
  ) {}

  onApplicationBootstrap(): void {
    scheduleDailyPurge(this.scheduler, JOB, this.logger, () => this.purge());
  }

  /** Purges what is past the horizon now; returns how many records went. */
  async purge(): Promise<number> {
    const cutoff = new Date(this.clock.now() - this.config.audit.retentionDays * DAY_MS).toISOString();
    const purged = await purgeInBatches((limit) => this.store.purgeBatch(cutoff, limit));
    if (purged > 0) {
      this.logger.log(`purged ${purged} audit records older than ${cutoff}`);
      this.bus.publish({
        type: 'audit.retention_purge',
        outcome: 'success',
        source: { transport: 'system' },
        details: { count: purged, cutoff, retentionDays: this.config.audit.retentionDays },
      });
    }
    return purged;
  }
}
