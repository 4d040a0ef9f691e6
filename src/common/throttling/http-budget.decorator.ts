import { ExecutionContext, SetMetadata } from '@nestjs/common';

const HTTP_BUDGET_METADATA = 'signalgate:http-budget';

/**
 * Puts an HTTP route on its own named throttler instead of the shared per-IP `default` one
 * (PROTOCOL §6: `/metrics` has 60 per window, counted apart from `/auth/*` and `/admin/*`).
 */
export const HttpBudget = (name: 'metrics'): MethodDecorator & ClassDecorator =>
  SetMetadata(HTTP_BUDGET_METADATA, name);

/** The budget a route declared, or undefined for the shared one. */
export function httpBudgetOf(context: ExecutionContext): string | undefined {
  return (
    (Reflect.getMetadata(HTTP_BUDGET_METADATA, context.getHandler()) as string | undefined) ??
    (Reflect.getMetadata(HTTP_BUDGET_METADATA, context.getClass()) as string | undefined)
  );
}
