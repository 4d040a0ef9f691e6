import type { ArgumentsHost } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { HttpErrorFilter } from '../common/filters/http-error.filter';
import { httpSource, routeTarget } from '../common/http-source';
import { isDocsPath } from '../common/openapi/openapi';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AgentAuthService } from './agent-auth.service';
import { roleAtLeast, type Role } from './directory/directory.types';

/** `/docs` without PUBLIC_DOCS_ENABLED is `@AdminAuth("auditor")` (PROTOCOL §4). */
export const DOCS_REQUIRED_ROLE: Role = 'auditor';

/**
 * The access rule of the OpenAPI docs when they are not public: exactly `@AdminAuth("auditor")`
 * (Bearer JWT verified by `AgentAuthService`, role from the directory, 401 then 403, the same
 * envelope and security events), but as Express middleware.
 *
 * Why not a decorator: SwaggerModule registers `/docs`, `/docs-json`, `/docs-yaml` and the UI assets
 * directly on Express, not as Nest controllers, so no guard, filter or throttler of Nest runs for
 * them and the default-deny boot check (AccessDeclarationChecker), which enumerates controllers,
 * cannot see them. This middleware is therefore mounted with `app.use` before `SwaggerModule.setup`
 * in `configureApp` (Express runs handlers in registration order) and matches every docs path the
 * way Express routes them (case-insensitively, with or without a trailing slash), so that no
 * spelling of a docs URL reaches the docs unauthenticated.
 */
export class DocsAccessMiddleware {
  /** The error envelope is written by the one HTTP filter, so it cannot drift from the guard's. */
  private readonly errors = new HttpErrorFilter();

  constructor(
    private readonly auth: AgentAuthService,
    private readonly bus: SecurityEventBus,
  ) {}

  /** The Express handler; bound so that it can be passed to `app.use` as is. */
  readonly use = (req: Request, res: Response, next: NextFunction): void => {
    if (!isDocsPath(req.path)) return next();
    this.authorize(req).then(
      () => next(),
      (error: unknown) => this.errors.catch(error, httpHost(req, res, next)),
    );
  };

  private async authorize(req: Request): Promise<void> {
    const source = httpSource(req);
    const target = routeTarget(req);
    const identity = await this.auth.authenticateBearer(bearerToken(req), source, target);
    if (roleAtLeast(identity.role, DOCS_REQUIRED_ROLE)) return;
    this.bus.publish({
      type: 'auth.forbidden',
      outcome: 'failure',
      reason: 'insufficient_role',
      code: ErrorCode.Forbidden,
      actor: { userId: identity.userId, agentId: identity.agentId ?? undefined, role: identity.role },
      orgId: identity.orgId ?? undefined,
      source,
      target,
      details: { guard: DocsAccessMiddleware.name, required: [DOCS_REQUIRED_ROLE] },
    });
    throw new DomainError(ErrorCode.Forbidden);
  }
}

function httpHost(req: Request, res: Response, next: NextFunction): ArgumentsHost {
  const host = new ExecutionContextHost([req, res, next]);
  host.setType('http');
  return host;
}

/** `Authorization: Bearer <token>`, parsed exactly as AdminAuthGuard does (anything else is absent). */
function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}
