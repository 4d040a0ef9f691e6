import { ContextType, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { SecurityEventBus } from '../security/security-event-bus.service';

/**
 * @nestjs/throttler for one transport (HTTP or Socket.IO), off when RATE_LIMIT_ENABLED=false.
 * Subclasses say how a refusal is published and answered on their transport.
 */
@Injectable()
export abstract class TransportThrottlerGuard extends ThrottlerGuard {
  protected abstract readonly transport: ContextType;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    protected readonly config: AppConfig,
    protected readonly bus: SecurityEventBus,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(context.getType() !== this.transport || !this.config.rateLimit.enabled);
  }
}
