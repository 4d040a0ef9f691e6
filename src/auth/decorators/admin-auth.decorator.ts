import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import { DeclareAccess } from '../../common/access/access-kind';
import type { HttpIdentity } from '../agent-auth.service';
import type { Role } from '../directory/directory.types';
import { AdminAuthGuard, AuthenticatedRequest } from '../guards/admin-auth.guard';
import { AdminAuthRoles } from './admin-auth-roles.decorator';

/**
 * An HTTP route for users of the directory holding at least one of `roles`
 * (agent < auditor < admin < platform_admin). 401 without a valid Bearer token, 403 for the role.
 */
export const AdminAuth = (...roles: Role[]): MethodDecorator =>
  applyDecorators(AdminAuthRoles(roles), DeclareAccess('admin'), UseGuards(AdminAuthGuard));

/** The identity `@AdminAuth()` established for this request. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): HttpIdentity =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().identity!,
);
