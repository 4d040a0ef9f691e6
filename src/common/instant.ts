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

/** How the OpenAPI document describes an instant. */
export const INSTANT_DOC =
  'ISO 8601 (`2026-11-22T08:00:00.000Z`, a zone is required for date-times) or epoch milliseconds';

/**
 * `from`/`to` of the admin queries (PROTOCOL §7; the audit trail and the call log): ISO 8601 (a
 * date, or a date-time with `Z` or an offset) or epoch milliseconds. Null when malformed or
 * outside 1970–9999.
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
