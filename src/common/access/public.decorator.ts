import { applyDecorators } from '@nestjs/common';
import { DeclareAccess, PublicMarker } from './access-kind';

/**
 * No identity required: health probes, public docs, and `agent:login` (which is how a socket
 * becomes an agent). Still validated and rate-limited.
 */
export const Public = (): MethodDecorator => applyDecorators(DeclareAccess('public'), PublicMarker());
