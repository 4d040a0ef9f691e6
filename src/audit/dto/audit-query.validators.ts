import { ValidateBy, ValidationOptions } from 'class-validator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]{1,64}$/;

/** The opaque `cursor` of a page: the base64url of the last record id it returned. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The record id a cursor stands for, or null when it is not one this server issued. */
export function decodeCursor(cursor: unknown): string | null {
  if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // Re-encoding must give the same text: rejects padding tricks and non-canonical encodings.
  return UUID.test(id) && encodeCursor(id) === cursor ? id : null;
}

export const IsAuditCursor = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isAuditCursor',
      validator: {
        validate: (value: unknown) => decodeCursor(value) !== null,
        defaultMessage: () => '$property must be a nextCursor returned by a previous page',
      },
    },
    options,
  );

/** `type=a,b` and `type=a&type=b` alike become `['a', 'b']`; anything else is left for the validators. */
export function toList(value: unknown): unknown {
  if (typeof value === 'string') return value.split(',').map((item) => item.trim());
  if (Array.isArray(value)) return value.flatMap((item) => toList(item) as unknown[]);
  return value;
}
