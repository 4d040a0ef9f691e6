import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AuditMetrics } from './audit-metrics.service';
import { AuditQueryService } from './audit-query.service';
import { AuditRecorder } from './audit-recorder.service';
import { AuditRetention } from './audit-retention.service';
import { AuditVerifier } from './audit-verifier.service';
import { AuditController } from './audit.controller';
import { AuditStore } from './audit.store';
import { KyselyAuditStore } from './kysely-audit.store';

/**
 * The audit trail (DESIGN §6): subscribes to the security-event bus, stores every decision in the
 * directory's database, and serves it to admins. Imports auth only for @AdminAuth, and metrics to
 * register its queue and write series.
 */
@Module({
  imports: [AuthModule, MetricsModule],
  controllers: [AuditController],
  providers: [
    { provide: AuditStore, useClass: KyselyAuditStore },
    AuditRecorder,
    AuditVerifier,
    AuditRetention,
    AuditQueryService,
    AuditMetrics,
  ],
  exports: [AuditRecorder],
})
export class AuditModule {}
