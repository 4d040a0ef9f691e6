import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AccessDeclarationChecker } from './access/access-declaration.checker';
import { BootWarnings } from './boot-warnings.service';
import { Clock } from './clock.service';
import { SecurityEventBus } from './security/security-event-bus.service';
import { SecurityLogSubscriber } from './security/security-log.subscriber';
import { ClientIpResolver } from './client-ip-resolver.service';
import { RedisConnections } from './redis/redis-connections.service';
import { RedisModule } from './redis/redis.module';
import { RedisScheduler } from './redis/redis-scheduler.service';
import { Scheduler } from './scheduler.service';
import { ShutdownState } from './shutdown-state.service';
import { LoginFailureBudget } from './throttling/login-failure-budget.service';
import { throttlerStorageFor } from './throttling/redis-throttler.storage';
import { throttlers } from './throttling/throttlers';

@Global()
@Module({
  imports: [
    DiscoveryModule,
    // The throttler storage needs the connections (AppModule imports RedisModule too: one instance).
    RedisModule,
    // Global: its storage holds every HTTP and socket counter (login attempts included), in Redis
    // when REDIS_URL is set (one budget across the instances), else in the library's own memory.
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisConnections],
      useFactory: (config: AppConfig, connections: RedisConnections) => ({
        throttlers: throttlers(config.rateLimit),
        storage: throttlerStorageFor(connections),
      }),
    }),
  ],
  providers: [
    SecurityEventBus,
    SecurityLogSubscriber,
    AccessDeclarationChecker,
    ShutdownState,
    {
      // Deadlines in Redis fire once cluster-wide, even when the instance that set them is gone.
      provide: Scheduler,
      inject: [RedisConnections],
      useFactory: (connections: RedisConnections) =>
        connections.enabled ? new RedisScheduler(connections) : new Scheduler(),
    },
    ClientIpResolver,
    BootWarnings,
    LoginFailureBudget,
    Clock,
  ],
  exports: [SecurityEventBus, ShutdownState, Scheduler, ClientIpResolver, LoginFailureBudget, Clock],
})
export class CommonModule {}
