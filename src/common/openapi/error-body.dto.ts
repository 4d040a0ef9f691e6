import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-code';

/** One invalid field of a 400 `INVALID_PAYLOAD`, with its dotted path (`pools.0.poolId`). */
class FieldErrorDto {
  @ApiProperty({ example: 'limit' })
  field!: string;

  @ApiProperty({ example: 'limit must not be greater than 500' })
  message!: string;
}

/**
 * The HTTP error envelope of PROTOCOL §4, `{statusCode, error, code}`, as `HttpErrorFilter` writes
 * it. Documentation only: referenced by the error responses of every route.
 */
export class ErrorBodyDto {
  @ApiProperty({ example: 401 })
  statusCode!: number;

  @ApiProperty({
    description: 'A human message.',
    example: 'Authentication required: send Authorization: Bearer <token>.',
  })
  error!: string;

  @ApiProperty({
    description: 'The stable machine code (PROTOCOL §6).',
    enum: Object.values(ErrorCode),
    example: ErrorCode.AuthRequired,
  })
  code!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on 400 INVALID_PAYLOAD only.' })
  details?: FieldErrorDto[];
}
