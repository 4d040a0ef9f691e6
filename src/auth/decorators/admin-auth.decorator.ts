import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { DeclareAccess } from '../../common/access/access-kind';
import { ApiErrorResponse, BEARER_SCHEME } from '../../common/openapi/openapi';
import type { HttpIdentity } from '../agent-auth.service';
import type { Role } from '../directory/directory.types';
import { AdminAuthGuard, AuthenticatedRequest } from '../guards/admin-auth.guard';
import { AdminAuthRoles } from './admin-auth-roles.decorator';

/** The OpenAPI extension naming the roles an `@AdminAuth` route accepts (each "or above"). */
export const REQUIRED_ROLES_EXTENSION = 'x-required-roles';

/**
 * An HTTP route for users of the directory holding at least one of `roles`
 * (agent < auditor < admin < platform_admin). 401 without a valid Bearer token, 403 for the role.
 * Also documents itself: the `bearer` security requirement, the 401/403 responses and the roles.
 */
export const AdminAuth = (...roles: Role[]): MethodDecorator =>
  applyDecorators(
    AdminAuthRoles(roles),
    DeclareAccess('admin'),
    UseGuards(AdminAuthGuard),
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension(REQUIRED_ROLES_EXTENSION, roles),
    ApiErrorResponse(
      401,
      'No valid Bearer token (`AUTH_REQUIRED`, `AUTH_INVALID_TOKEN`, `AUTH_EXPIRED`, `AUTH_REVOKED`).',
    ),
    ApiErrorResponse(
      403,
      `${describeRoles(roles)} (\`FORBIDDEN\`), or the user is disabled (\`AUTH_AGENT_DISABLED\`).`,
    ),
    ApiErrorResponse(503, 'The token keys (JWKS) do not answer; retry later (`INTERNAL_ERROR`).'),
  );

function describeRoles(roles: readonly Role[]): string {
  if (roles.length === 0) return 'Any active directory user';
  return `Requires the role ${roles.map((role) => `\`${role}\``).join(' or ')} or above`;
}

/** The identity `@AdminAuth()` established for this request. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): HttpIdentity =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().identity!,
);
