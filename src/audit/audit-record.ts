import type { SecurityActor, SecurityEventType, SecuritySource } from '../common/security/security-event';

/** The stored record of PROTOCOL §7, plus `seq`: its position in its chain. */
export interface AuditRecord {
  /** UUIDv7: sorts by creation time; assigned when the event is recorded, so replays are idempotent. */
  id: string;
  /** ISO 8601 UTC with milliseconds. */
  occurredAt: string;
  type: SecurityEventType;
  outcome: 'success' | 'failure';
  reason?: string;
  actor: SecurityActor;
  orgId?: string;
  source: SecuritySource;
  target?: string;
  details?: Record<string, unknown>;
  /** The writer's chain (one per process run). */
  chain: string;
  seq: number;
  prevHash: string;
  hash: string;
}

/** What a chain's first record links to. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every record type an admin may filter on (PROTOCOL §7). */
export const AUDIT_TYPES: readonly SecurityEventType[] = [
  'auth.login',
  'auth.logout',
  'auth.refresh',
  'auth.handshake',
  'auth.required',
  'auth.expired',
  'auth.forbidden',
  'auth.dev_bypass',
  'auth.ticket_issued',
  'auth.session_revoked',
  'metrics.access',
  'metrics.internal_spoof',
  'admin.audit_read',
  'admin.audit_export',
  'admin.call_log_read',
  'ratelimit.blocked',
  'audit.retention_purge',
  'config.warning',
];
