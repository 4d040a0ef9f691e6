import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { httpSource, routeTarget } from '../../common/http-source';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import { AgentAuthService, HttpIdentity } from '../agent-auth.service';
import { AdminAuthRoles } from '../decorators/admin-auth-roles.decorator';
import { roleAtLeast } from '../directory/directory.types';

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
    private readonly bus: SecurityEventBus,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const source = httpSource(req);
    const target = routeTarget(req);
    const identity = await this.auth.authenticateBearer(bearerToken(req), source, target);

    const roles =
      this.reflector.getAllAndOverride(AdminAuthRoles, [context.getHandler(), context.getClass()]) ?? [];
    if (roles.length > 0 && !roles.some((role) => roleAtLeast(identity.role, role))) {
      this.bus.publish({
        type: 'auth.forbidden',
        outcome: 'failure',
        reason: 'insufficient_role',
        code: ErrorCode.Forbidden,
        actor: { userId: identity.userId, agentId: identity.agentId ?? undefined, role: identity.role },
        orgId: identity.orgId ?? undefined,
        source,
        target,
        details: { guard: 'AdminAuthGuard', required: roles },
      });
      throw new DomainError(ErrorCode.Forbidden);
    }
    req.identity = identity;
    return true;
  }
}

function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
