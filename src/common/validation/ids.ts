import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

/** PROTOCOL §2: ids are 1–128 characters of `[A-Za-z0-9._:-]`. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const IsProtocolId = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    Length(1, 128),
    Matches(ID_PATTERN, { message: '$property must be 1-128 characters of [A-Za-z0-9._:-]' }),
  );
