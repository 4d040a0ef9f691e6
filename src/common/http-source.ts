import type { Request } from 'express';
import { normaliseIp } from './client-ip';
import type { SecuritySource } from './security/security-event';

/** Where an HTTP request came from (Express's `req.ip` already honours TRUST_PROXY). */
export function httpSource(req: Request): SecuritySource {
  return { transport: 'http', ip: normaliseIp(req.ip), userAgent: req.get('user-agent') ?? undefined };
}

/** `METHOD /route/template` in Express notation, never the raw URL (which may carry `?key=`). */
export function routeTarget(req: Request): string {
  const route = (req.route as { path?: string } | undefined)?.path ?? req.path;
  return `${req.method} ${req.baseUrl ?? ''}${route}`;
}
