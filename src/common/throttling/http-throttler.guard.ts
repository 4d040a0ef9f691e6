import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config';
import { ErrorCode } from '../errors/error-code';
import { SecurityEventBus } from '../security/security-event-bus.service';
import { httpSource, routeTarget } from '../http-source';

/**
 * Per-IP HTTP limits (PROTOCOL §6), registered as a global guard: it reaches every controller and
 * no gateway. Health routes opt out with @SkipThrottle(). The client IP is Express's `req.ip`,
 * which honours TRUST_PROXY.
 */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(context.getType() !== 'http' || !this.config.rateLimit.enabled);
  }

  protected override throwThrottlingException(context: ExecutionContext): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    this.bus.publish({
      type: 'ratelimit.blocked',
      outcome: 'failure',
      reason: 'rate_limited',
      code: ErrorCode.RateLimited,
      source: httpSource(req),
      target: routeTarget(req),
      details: { scope: 'http' },
    });
    throw new HttpException(
      { statusCode: 429, error: 'Too many requests. Please slow down.', code: ErrorCode.RateLimited },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
