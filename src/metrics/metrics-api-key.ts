import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Where a scrape presented its key (PROTOCOL §4), most preferred first. */
export type KeySource = 'header' | 'bearer' | 'basic' | 'query';

export interface PresentedKey {
  key: string;
  source: KeySource;
}

/**
 * The key a request presents: `x-metrics-api-key`, else `Authorization: Bearer`, else the password
 * of `Authorization: Basic`, else `?key=` (accepted for scrapers that cannot set headers; the URL is
 * never logged).
 */
export function presentedKey(req: Request): PresentedKey | null {
  const header = req.get('x-metrics-api-key');
  if (header) return { key: header, source: 'header' };
  const authorization = req.get('authorization') ?? '';
  const [scheme, credentials] = authorization.split(/\s+/, 2);
  if (credentials && scheme.toLowerCase() === 'bearer') return { key: credentials, source: 'bearer' };
  if (credentials && scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator >= 0 && separator < decoded.length - 1)
      return { key: decoded.slice(separator + 1), source: 'basic' };
  }
  const query = req.query.key;
  if (typeof query === 'string' && query) return { key: query, source: 'query' };
  return null;
}

/**
 * The configured keys as SHA-256 digests. Comparing digests of equal length with timingSafeEqual
 * tells nothing about a key's length or content through timing.
 */
export class KeyRing {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** Whether `key` is one of the configured keys; every key is compared, whichever matches. */
  matches(key: string): boolean {
    const presented = digest(key);
    let found = false;
    for (const candidate of this.digests) found = timingSafeEqual(candidate, presented) || found;
    return found;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
