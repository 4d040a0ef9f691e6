import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsApiKeyGuard } from './metrics-api-key.guard';
import { MetricsController } from './metrics.controller';
import { MetricsCooldownStore } from './metrics-cooldown.store';
import { MetricsFailureCooldown } from './metrics-failure-cooldown.service';
import { MetricsInstruments } from './metrics-instruments.service';
import { createMetricsRegistry } from './metrics-registry';
import { MetricsSummary } from './metrics-summary.service';
import { SecurityMetricsSubscriber } from './security-metrics.subscriber';
import { WsEventMetrics } from './ws-event-metrics.service';
import { SocketEventObserver } from '../common/socket/socket-event-observer';
import { Clock } from '../common/clock.service';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { AppConfig } from '../config/app-config';
import { metricsCooldownStoreFor } from './redis-metrics-cooldown.store';

/**
 * The prom-client registry, the instruments fed from the security-event bus, the socket adapter
 * (through the SocketEventObserver port) and the HTTP middleware, and `GET /metrics` behind `@MetricsApiKey()` (DESIGN §5).
 * Imports no feature module: signaling and audit import this one to register their own series.
 */
@Module({
  controllers: [MetricsController],
  providers: [
    { provide: Registry, useFactory: createMetricsRegistry },
    MetricsInstruments,
    SecurityMetricsSubscriber,
    WsEventMetrics,
    { provide: SocketEventObserver, useExisting: WsEventMetrics },
    MetricsApiKeyGuard,
    MetricsFailureCooldown,
    // The failure cool-down shared through Redis when REDIS_URL is set, else the in-memory one.
    {
      provide: MetricsCooldownStore,
      inject: [RedisConnections, AppConfig, Clock, MetricsFailureCooldown],
      useFactory: metricsCooldownStoreFor,
    },
    MetricsSummary,
  ],
  exports: [Registry, MetricsInstruments, SocketEventObserver],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
