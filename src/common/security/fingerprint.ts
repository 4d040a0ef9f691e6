import { createHash } from 'node:crypto';

/** A short, non-reversible reference to a credential: the first 12 hex chars of its SHA-256. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}
