import { applyDecorators } from '@nestjs/common';
import { DECORATORS } from '@nestjs/swagger';
import { DeclareAccess, PublicMarker } from './access-kind';

/**
 * An HTTP route that requires no identity (health probes). Still validated and rate-limited.
 * Documented as `security: []`.
 */
export const Public = (): MethodDecorator =>
  applyDecorators(DeclareAccess('public'), PublicMarker(), ApiNoSecurity());

/**
 * `security: []` on the operation: "no credential", stated rather than implied by absence.
 * `ApiSecurity` can only add requirements, and `ApiOperation` would reset a route's own `summary`
 * (it merges in a default one), so the key is merged into the operation metadata directly; a route's
 * `@ApiOperation` above or below `@Public()` keeps it either way.
 */
function ApiNoSecurity(): MethodDecorator {
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const operation = (Reflect.getMetadata(DECORATORS.API_OPERATION, handler) as object | undefined) ?? {};
    Reflect.defineMetadata(DECORATORS.API_OPERATION, { ...operation, security: [] }, handler);
    return descriptor;
  };
}
