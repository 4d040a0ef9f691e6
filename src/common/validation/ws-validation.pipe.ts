import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '../errors/error-code';
import { WsError } from '../errors/ws-error';
import { isFreeFormPayload, jsonBytes, payloadLimitOf } from './payload-limit';
import { toFieldErrors } from './validation-details';

/**
 * Validates every socket payload against its DTO (whitelist + forbidNonWhitelisted: unknown fields
 * are refused, PROTOCOL §2). First its size against the DTO's limit (16 KiB unless it declares
 * another), so nothing larger is ever copied or walked; then its shape: a payload that is not an
 * object at all (a string, an array, nothing) is refused here rather than coerced.
 */
@Injectable()
export class WsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Off because it refuses a DTO with no decorated field at all (NoPayloadDto); non-objects are
      // refused in transform() below and unknown fields by forbidNonWhitelisted.
      forbidUnknownValues: false,
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
    // An event sent without a payload is validated as `{}`: required fields are then reported by
    // name, and payload-less events accept it. Nest hands an ack-only emit over as `[]`.
    if (expectsDto && (value === undefined || (Array.isArray(value) && value.length === 0))) value = {};
    if (!expectsDto) return super.transform(value, metadata);
    const dto = metadata.metatype as object;
    const limit = payloadLimitOf(dto);
    if (jsonBytes(value) > limit) {
      throw new WsError(ErrorCode.InvalidPayload, 'The payload is too large.', [
        { field: 'payload', message: `payload must be at most ${limit} bytes of JSON` },
      ]);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new WsError(ErrorCode.InvalidPayload, 'The payload is invalid.', [
        { field: 'payload', message: 'payload must be an object' },
      ]);
    }
    if (isFreeFormPayload(dto)) return value;
    return super.transform(value, metadata);
  }
}
