import { applyDecorators } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import { RECONNECT_TOKEN_PATTERN } from '../calls/reconnect-token';

export const IsReconnectToken = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    Matches(RECONNECT_TOKEN_PATTERN, { message: '$property must be 64 lowercase hexadecimal characters' }),
  );
