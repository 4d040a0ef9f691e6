import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { httpSource, routeTarget } from '../../common/http-source';
import { AgentAuthService, HttpIdentity } from '../agent-auth.service';
import { bearerToken } from '../bearer-token';
import { AdminAuthRoles } from '../decorators/admin-auth-roles.decorator';

export type AuthenticatedRequest = Request & { identity?: HttpIdentity };

/**
 * `@AdminAuth(...roles)`: `Authorization: Bearer <JWT>` verified like agent tokens, the role read
 * from the directory (never from the token). 401 when the credential is missing or bad, then 403
 * when the role is insufficient.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AgentAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const roles =
      this.reflector.getAllAndOverride(AdminAuthRoles, [context.getHandler(), context.getClass()]) ?? [];
    const source = httpSource(req);
    req.identity = await this.auth.authorizeBearer(
      bearerToken(req),
      roles,
      source,
      routeTarget(req),
      AdminAuthGuard.name,
    );
    return true;
  }
}
