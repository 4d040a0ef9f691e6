/** Types of PROTOCOL §7 that a decision can produce. */
export type SecurityEventType =
  | 'auth.login'
  | 'auth.logout'
  | 'auth.refresh'
  | 'auth.handshake'
  | 'auth.required'
  | 'auth.expired'
  | 'auth.forbidden'
  | 'auth.dev_bypass'
  | 'auth.ticket_issued'
  | 'auth.session_revoked'
  | 'metrics.access'
  | 'metrics.internal_spoof'
  | 'admin.audit_read'
  | 'admin.audit_export'
  | 'admin.call_log_read'
  | 'ratelimit.blocked'
  | 'audit.retention_purge'
  | 'config.warning';

export type Transport = 'ws' | 'http' | 'system';

export interface SecurityActor {
  userId?: string;
  agentId?: string;
  role?: string;
}

export interface SecuritySource {
  ip?: string;
  userAgent?: string;
  socketId?: string;
  transport: Transport;
}

interface SecurityEventBase {
  type: SecurityEventType;
  /** How the credential was presented (jwt, ticket, dev_bypass, api_key…), for metrics labels. */
  method?: string;
  actor?: SecurityActor;
  orgId?: string;
  source: SecuritySource;
  /** The event name for sockets, `METHOD /route/template` for HTTP. */
  target?: string;
  details?: Record<string, unknown>;
  /** Epoch ms; set by the bus when omitted. */
  occurredAt?: number;
  /** The machine code sent to the client, when there was a refusal. */
  code?: string;
}

/**
 * One authentication or authorization decision. Carries what an audit record needs (PROTOCOL §7)
 * and never a credential: at most a short fingerprint in `details`. A failure without a `reason`
 * does not compile (PROTOCOL §7: "Failures always carry `reason`").
 */
export type SecurityEvent = SecurityEventBase &
  (
    | { outcome: 'success'; /** snake_case, optional for successes. */ reason?: string }
    | { outcome: 'failure'; /** snake_case, e.g. `invalid_token`. */ reason: string }
  );
