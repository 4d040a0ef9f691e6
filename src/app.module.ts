import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CallLogModule } from './call-log/call-log.module';
import { TransportModule } from './transport/transport.module';
import { RedisModule } from './common/redis/redis.module';
import { CommonModule } from './common/common.module';
import { DatabaseModule } from './common/database/database.module';
import { HttpErrorFilter } from './common/filters/http-error.filter';
import { HttpAccessLogMiddleware } from './common/http-access-log.middleware';
import { HttpThrottlerGuard } from './common/throttling/http-throttler.guard';
import { AppConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { SignalingModule } from './signaling/signaling.module';

@Module({
  imports: [
    AppConfigModule,
    CommonModule,
    RedisModule,
    DatabaseModule,
    MetricsModule,
    AuthModule,
    AuditModule,
    CallLogModule,
    SignalingModule,
    HealthModule,
    TransportModule,
  ],
  providers: [
    // Global guards and filters reach controllers only; the gateway declares its own on its class.
    { provide: APP_GUARD, useClass: HttpThrottlerGuard },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpAccessLogMiddleware).forRoutes('*');
  }
}
