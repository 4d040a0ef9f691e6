import type { ArgumentsHost } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { NextFunction, Request, Response } from 'express';
import { HttpErrorFilter } from '../common/filters/http-error.filter';
import { httpSource, routeTarget } from '../common/http-source';
import { isDocsPath } from '../common/openapi/openapi';
import { AgentAuthService } from './agent-auth.service';
import { bearerToken } from './bearer-token';
import type { Role } from './directory/directory.types';

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

  constructor(private readonly auth: AgentAuthService) {}

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
    await this.auth.authorizeBearer(
      bearerToken(req),
      [DOCS_REQUIRED_ROLE],
      source,
      routeTarget(req),
      DocsAccessMiddleware.name,
    );
  }
}

function httpHost(req: Request, res: Response, next: NextFunction): ArgumentsHost {
  const host = new ExecutionContextHost([req, res, next]);
  host.setType('http');
  return host;
}
