import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AccessDeclarationChecker } from './access/access-declaration.checker';
import { SecurityEventBus } from './security/security-event-bus';
import { SecurityLogSubscriber } from './security/security-log.subscriber';
import { ClientIpResolver } from './client-ip-resolver.service';
import { Scheduler } from './scheduler';
import { ShutdownState } from './shutdown-state';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    SecurityEventBus,
    SecurityLogSubscriber,
    AccessDeclarationChecker,
    ShutdownState,
    Scheduler,
    ClientIpResolver,
  ],
  exports: [SecurityEventBus, ShutdownState, Scheduler, ClientIpResolver],
})
export class CommonModule {}
