import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditRecorder } from './audit-recorder.service';
import { AuditRetention } from './audit-retention.service';
import { AuditVerifier } from './audit-verifier.service';
import { AuditStore } from './audit.store';
import { KyselyAuditStore } from './kysely-audit.store';

/**
 * The audit trail (DESIGN §6): subscribes to the security-event bus, stores every decision in the
 * directory's database, and serves it to admins. Imports auth only for @AdminAuth.
 */
@Module({
  imports: [AuthModule],
  providers: [
    { provide: AuditStore, useClass: KyselyAuditStore },
    AuditRecorder,
    AuditVerifier,
    AuditRetention,
  ],
  exports: [AuditRecorder],
})
export class AuditModule {}
