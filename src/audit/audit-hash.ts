import { createHash } from 'node:crypto';
import type { AuditRecord } from './audit-record';

/**
 * JSON with object keys sorted and `undefined` members left out, so that a record serialises to the
 * same bytes whichever code path (memory, SQLite, Postgres, spill file) it comes back through.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/** SHA-256 (hex) over the canonical form of every field but `hash`, `prevHash` included. */
export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  const { hash: _ignored, ...content } = record as AuditRecord;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
