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
import { Scheduler } from './scheduler.service';
import { ShutdownState } from './shutdown-state.service';
import { LoginFailureBudget } from './throttling/login-failure-budget.service';
import { throttlers } from './throttling/throttlers';

@Global()
@Module({
  imports: [
    DiscoveryModule,
    // Global: its storage holds every HTTP and socket counter (login attempts included).
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ throttlers: throttlers(config.rateLimit) }),
    }),
  ],
  providers: [
    SecurityEventBus,
    SecurityLogSubscriber,
    AccessDeclarationChecker,
    ShutdownState,
    Scheduler,
    ClientIpResolver,
    BootWarnings,
    LoginFailureBudget,
    Clock,
  ],
  exports: [SecurityEventBus, ShutdownState, Scheduler, ClientIpResolver, LoginFailureBudget, Clock],
})
export class CommonModule {}
