import { ValidateBy, ValidationOptions } from 'class-validator';
import type { CallLogPosition } from '../call-log.store';

const POSITION = /^(\d{1,15}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,96}$/;

/** The opaque `cursor` of a page: the base64url of the last row's startedAt and callLogId. */
export function encodeCallLogCursor(position: CallLogPosition): string {
  return Buffer.from(`${position.startedAt}:${position.callLogId}`, 'utf8').toString('base64url');
}

/** The position a cursor stands for, or null when it is not one this server issued. */
export function decodeCallLogCursor(cursor: unknown): CallLogPosition | null {
  if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) return null;
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  const position = { startedAt: Number(match[1]), callLogId: match[2] };
  // Re-encoding must give the same text: rejects padding tricks and non-canonical encodings.
  return encodeCallLogCursor(position) === cursor ? position : null;
}

export const IsCallLogCursor = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isCallLogCursor',
      validator: {
        validate: (value: unknown) => decodeCallLogCursor(value) !== null,
        defaultMessage: () => '$property must be a nextCursor returned by a previous page',
      },
    },
    options,
  );
