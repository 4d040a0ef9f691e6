import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

/** The HTTP budgets a route may take instead of the shared per-IP `default` one. */
export type HttpBudgetName = 'metrics';

/**
 * Puts an HTTP route on its own named throttler instead of the shared per-IP `default` one
 * (PROTOCOL §6: `/metrics` has 60 per window, counted apart from `/auth/*` and `/admin/*`).
 */
export const HttpBudget = Reflector.createDecorator<HttpBudgetName>();

/** Reflector is stateless; the throttlers' `skipIf` callbacks get only the context. */
const reflector = new Reflector();

/** The budget a route (or its controller) declared, or undefined for the shared one. */
export function httpBudgetOf(context: ExecutionContext): HttpBudgetName | undefined {
  return reflector.getAllAndOverride(HttpBudget, [context.getHandler(), context.getClass()]);
}
