import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '../errors/error-code';
import { WsError } from '../errors/ws-error';
import { toFieldErrors } from './validation-details';

/**
 * Validates every socket payload against its DTO (whitelist + forbidNonWhitelisted: unknown fields
 * are refused, PROTOCOL §2). A payload that is not an object at all (a string, an array, nothing)
 * is refused here rather than coerced.
 */
@Injectable()
export class WsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) =>
        new WsError(ErrorCode.InvalidPayload, 'The payload is invalid.', toFieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only the message payload is validated: Nest hands @MessageBody() to pipes as 'body' (its
    // WsParamtype.PAYLOAD shares RouteParamtypes.BODY's number); socket, ack and custom params pass.
    if (metadata.type !== 'body') return value;
    const expectsDto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (expectsDto && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new WsError(ErrorCode.InvalidPayload, 'The payload is invalid.', [
        { field: 'payload', message: 'payload must be an object' },
      ]);
    }
    return super.transform(value, metadata);
  }
}
