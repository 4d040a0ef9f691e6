import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CallLog } from './call-log';
import { CallLogMetrics } from './call-log-metrics.service';
import { CallLogQueryService } from './call-log-query.service';
import { CallLogRetention } from './call-log-retention.service';
import { CallLogWriter } from './call-log-writer.service';
import { CallLogController } from './call-log.controller';
import { CallLogStore } from './call-log.store';
import { KyselyCallLogStore } from './kysely-call-log.store';

/**
 * The call log: one row per call in the audit trail's database, written through the CallLog port
 * the signaling module calls, and served to admins at `GET /admin/calls`. Imports auth only for
 * @AdminAuth, and metrics to register its write series.
 */
@Module({
  imports: [AuthModule, MetricsModule],
  controllers: [CallLogController],
  providers: [
    { provide: CallLogStore, useClass: KyselyCallLogStore },
    CallLogWriter,
    { provide: CallLog, useExisting: CallLogWriter },
    CallLogRetention,
    CallLogQueryService,
    CallLogMetrics,
  ],
  exports: [CallLog],
})
export class CallLogModule {}
