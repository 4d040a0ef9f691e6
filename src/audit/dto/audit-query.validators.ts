import { isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/** Epoch milliseconds: digits only (no sign, no exponent). */
const EPOCH_MS = /^\d{1,15}$/;
/** A date-time must say which zone it is in; a bare date means UTC midnight. */
const ZONED = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
/**
 * 9999-12-31T23:59:59.999Z: beyond it `toISOString()` writes six-digit years, and stored ISO strings
 * would no longer compare like the times they name.
 */
const MAX_INSTANT_MS = 253_402_300_799_999;

/**
 * `from`/`to` of PROTOCOL §7: ISO 8601 (a date, or a date-time with `Z` or an offset) or epoch
 * milliseconds. Null when malformed or outside 1970–9999.
 */
export function parseInstant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  let ms: number;
  if (EPOCH_MS.test(value)) ms = Number(value);
  else if (
    isISO8601(value, { strict: true, strictSeparator: true }) &&
    (!value.includes('T') || ZONED.test(value))
  )
    ms = Date.parse(value);
  else return null;
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_INSTANT_MS ? new Date(ms) : null;
}

export const IsInstant = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (value: unknown) => parseInstant(value) !== null,
        defaultMessage: () =>
          '$property must be an ISO 8601 date or date-time with a zone (2026-11-22T08:00:00.000Z) or epoch milliseconds',
      },
    },
    options,
  );

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
