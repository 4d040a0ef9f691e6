import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, Max, Min, ValidateBy, ValidationArguments } from 'class-validator';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/*
 * Decorators for `EnvironmentVariables`. Every value arrives as a trimmed, non-empty string
 * (`validateEnvironment` drops unset and empty variables first); each decorator converts what it
 * can and leaves anything else as the original string, so the validator refuses it and the
 * message can quote what the operator wrote.
 *
 * Messages say only why a value is wrong; `validateEnvironment` puts the variable's name in front.
 * A list validator reports each bad entry on its own line, and each line becomes one problem.
 */

const INTEGER = /^-?\d+$/;
const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];
/** What Express's `trust proxy` (proxy-addr) accepts by name. */
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/** A browser origin: scheme and host (and port), no path, not even a trailing slash. */
const ORIGIN = /^https?:\/\/[^/\s]+$/;

const got = (args: ValidationArguments): string => `(got "${String(args.value)}")`;

/**
 * A base-10 integer within [min, max]. Converted only when the whole value is digits (with an
 * optional minus), so `1e3`, `0x10` and `1.0` are refused rather than read as numbers.
 */
export const IsIntegerBetween = (min: number, max: number): PropertyDecorator => {
  const message = (args: ValidationArguments): string =>
    `must be an integer between ${min} and ${max} ${got(args)}`;
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' && INTEGER.test(value) ? Number(value) : value)),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
};

/** A flag: true/1/yes or false/0/no, in any case. */
export const IsFlag = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }) => toBoolean(value)),
    IsBoolean({ message: (args) => `must be true or false ${got(args)}` }),
  );

/** One of a fixed set of words (case-sensitive). */
export const IsOneOf = (allowed: readonly string[]): PropertyDecorator =>
  IsIn(allowed, { message: (args) => `must be one of ${allowed.join(', ')} ${got(args)}` });

/** A comma-separated list; entries are trimmed and empty entries dropped (so `","` is `[]`). */
export const CommaSeparated = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' ? splitList(value) : value));

/**
 * A URL with one of `protocols` (written with the colon, as `URL.protocol` has them). Parsed with
 * the WHATWG `URL`, the parser every consumer of these URLs uses (pg, jose's remote JWKS, the JWKS
 * loopback check), rather than validator.js's `isURL`, which refuses URLs those consumers accept
 * (`postgres:///db`, a `:` in a password) and accepts some that `new URL` throws on.
 */
export const IsUrlWithProtocol = (protocols: readonly string[]): PropertyDecorator =>
  ValidateBy({
    name: 'isUrlWithProtocol',
    constraints: [protocols],
    validator: {
      validate: (value): boolean => urlProblem(value, protocols) === null,
      defaultMessage: (args): string => urlProblem(args?.value, protocols) ?? '',
    },
  });

/** `CORS_ORIGINS` after `CommaSeparated`: origins, or a list holding `*` (checked per environment later). */
export const IsOriginList = (): PropertyDecorator =>
  ValidateBy({
    name: 'isOriginList',
    validator: {
      validate: (value): boolean => badOrigins(value).length === 0,
      defaultMessage: (args): string =>
        badOrigins(args?.value)
          .map((origin) => `"${origin}" is not an origin`)
          .join('\n'),
    },
  });

/**
 * `TRUST_PROXY`, converted to what Express's `trust proxy` takes: `false`, `true`, a hop count, or a
 * list of addresses, CIDRs and proxy-addr's names. Each entry must be a plain IP address (with an
 * optional numeric prefix) that proxy-addr also compiles, so a value that would make Express throw
 * at boot (`10.0.0.0/99`, `10.0.0.0/0`) is reported here with the other problems instead.
 */
export const IsTrustProxy = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? toTrustProxy(value) : value)),
    ValidateBy({
      name: 'isTrustProxy',
      validator: {
        validate: (value): boolean => badProxyEntries(value).length === 0,
        defaultMessage: (args): string =>
          badProxyEntries(args?.value)
            .map((entry) => `"${entry}" is not a hop count, an address or a CIDR`)
            .join('\n'),
      },
    }),
  );

/** After `CommaSeparated`: addresses and CIDRs (IPv4 or IPv6), as `METRICS_INTERNAL_CIDRS` takes them. */
export const IsAddressList = (): PropertyDecorator =>
  ValidateBy({
    name: 'isAddressList',
    validator: {
      validate: (value): boolean => badAddressEntries(value).length === 0,
      defaultMessage: (args): string =>
        badAddressEntries(args?.value)
          .map((entry) => `"${entry}" is not an address or a CIDR`)
          .join('\n'),
    },
  });

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return value;
}

function toTrustProxy(value: string): boolean | number | string[] {
  const word = value.toLowerCase();
  if (word === 'false') return false;
  if (word === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return splitList(value);
}

function urlProblem(value: unknown, protocols: readonly string[]): string | null {
  let parsed: URL;
  try {
    parsed = new URL(String(value));
  } catch {
    return 'is not a valid URL';
  }
  return protocols.includes(parsed.protocol) ? null : `must be a ${protocols.join(' or ')} URL`;
}

function badOrigins(value: unknown): string[] {
  if (!Array.isArray(value)) return [String(value)];
  const origins = value.map(String);
  // `*` makes the whole setting "any origin"; production refuses it in validateEnvironment.
  if (origins.includes('*')) return [];
  return origins.filter((origin) => !ORIGIN.test(origin));
}

function badProxyEntries(value: unknown): string[] {
  if (typeof value === 'boolean' || typeof value === 'number') return [];
  if (!Array.isArray(value)) return [String(value)];
  return value.map(String).filter((entry) => !isProxyEntry(entry));
}

function badAddressEntries(value: unknown): string[] {
  if (!Array.isArray(value)) return [String(value)];
  return value.map(String).filter((entry) => PROXY_NAMES.includes(entry) || !isProxyEntry(entry));
}

function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address, prefix] = entry.split('/');
  if (isIP(address) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  try {
    proxyAddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}
