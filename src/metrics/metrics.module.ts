import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsApiKeyGuard } from './metrics-api-key.guard';
import { MetricsController } from './metrics.controller';
import { MetricsFailureCooldown } from './metrics-failure-cooldown';
import { MetricsInstruments } from './metrics-instruments';
import { createMetricsRegistry } from './metrics-registry';
import { MetricsSummary } from './metrics-summary';
import { SecurityMetricsSubscriber } from './security-metrics.subscriber';
import { WsMetricsInterceptor } from './ws-metrics.interceptor';

/**
 * The prom-client registry, the instruments fed from the security-event bus, the gateway
 * interceptor and the HTTP middleware, and `GET /metrics` behind `@MetricsApiKey()` (DESIGN §5).
 * Imports no feature module: signaling and audit import this one to register their own series.
 */
@Module({
  controllers: [MetricsController],
  providers: [
    { provide: Registry, useFactory: createMetricsRegistry },
    MetricsInstruments,
    SecurityMetricsSubscriber,
    WsMetricsInterceptor,
    MetricsApiKeyGuard,
    MetricsFailureCooldown,
    MetricsSummary,
  ],
  exports: [Registry, MetricsInstruments, WsMetricsInterceptor],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
