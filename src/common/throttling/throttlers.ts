import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerOptions } from '@nestjs/throttler';
import type { AppConfig } from '../../config/app-config';
import { httpBudgetOf } from './http-budget.decorator';
import {
  OTHER_THROTTLER,
  SOCKET_BUDGETS,
  SOCKET_DEFAULT_LIMIT,
  socketThrottlerOf,
} from './socket-rate-limits';

/**
 * Every named throttler: `default` for HTTP (per IP; health routes opt out with @SkipThrottle()),
 * `metrics` for the routes marked `@HttpBudget('metrics')`, and one per socket budget. Each applies
 * only to its own transport and, for sockets, its events.
 */
export function throttlers(rateLimit: AppConfig['rateLimit']): ThrottlerOptions[] {
  const ttl = rateLimit.windowMs;
  const socket = (name: string, limit: number): ThrottlerOptions => ({
    name,
    ttl,
    limit,
    skipIf: (context: ExecutionContext) =>
      context.getType() !== 'ws' || socketThrottlerOf(String(context.switchToWs().getPattern())) !== name,
  });
  return [
    {
      name: 'default',
      ttl,
      limit: rateLimit.httpMax,
      skipIf: (context) => context.getType() !== 'http' || httpBudgetOf(context) !== undefined,
    },
    {
      name: 'metrics',
      ttl,
      limit: rateLimit.metricsMax,
      skipIf: (context) => context.getType() !== 'http' || httpBudgetOf(context) !== 'metrics',
    },
    ...SOCKET_BUDGETS.map((budget) => socket(budget.name, budget.limit)),
    socket(OTHER_THROTTLER, SOCKET_DEFAULT_LIMIT),
  ];
}
