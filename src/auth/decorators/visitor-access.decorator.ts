import { applyDecorators } from '@nestjs/common';
import { DeclareAccess } from '../../common/access/access-kind';

/**
 * Anonymous by design: the widget's visitors have no credentials. The handler is still
 * rate-limited and its payload validated; isolation between visitors and organisations is the
 * services' job.
 */
export const VisitorAccess = (): MethodDecorator => applyDecorators(DeclareAccess('visitor'));
