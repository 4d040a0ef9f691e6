import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import type { ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { ErrorCode } from '../errors/error-code';
import { httpBudgetOf } from './http-budget.decorator';
import { TransportThrottlerGuard } from './transport-throttler.guard';
import { httpSource, routeTarget } from '../http-source';

/**
 * Per-IP HTTP limits (PROTOCOL §6), registered as a global guard: it reaches every controller and
 * no gateway. Health routes opt out with @SkipThrottle(). The client IP is Express's `req.ip`,
 * which honours TRUST_PROXY.
 */
@Injectable()
export class HttpThrottlerGuard extends TransportThrottlerGuard {
  protected readonly transport = 'http';

  protected override throwThrottlingException(
    context: ExecutionContext,
    limit: ThrottlerLimitDetail,
  ): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    // The throttler names its header after a named throttler (`Retry-After-metrics`); clients and
    // scrapers look for the standard one.
    context
      .switchToHttp()
      .getResponse<Response>()
      .setHeader('Retry-After', String(Math.max(1, Math.ceil(limit.timeToBlockExpire))));
    this.bus.publish({
      type: 'ratelimit.blocked',
      outcome: 'failure',
      reason: 'rate_limited',
      code: ErrorCode.RateLimited,
      source: httpSource(req),
      target: routeTarget(req),
      details: { scope: httpBudgetOf(context) ?? 'http' },
    });
    throw new HttpException(
      { statusCode: 429, error: 'Too many requests. Please slow down.', code: ErrorCode.RateLimited },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
