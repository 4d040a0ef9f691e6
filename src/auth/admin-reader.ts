import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { SecurityEvent, SecurityEventType, SecuritySource } from '../common/security/security-event';
import type { HttpIdentity } from './agent-auth.service';
import { roleAtLeast } from './directory/directory.types';

/**
 * The rules the admin read routes share (the audit trail, the call log): whose organisation a
 * reader sees, and the record every read leaves.
 */

/** Who reads, and through which request: what the record of the read says. */
export interface AdminReader {
  user: HttpIdentity;
  source: SecuritySource;
  target: string;
}

/**
 * The organisation `user` may read: a platform admin reads every organisation, or the one it names
 * (`undefined`: all); anyone else reads its own only, and naming one is FORBIDDEN.
 */
export function readableOrgId(user: HttpIdentity, requested: string | undefined): string | undefined {
  if (roleAtLeast(user.role, 'platform_admin')) return requested;
  if (requested !== undefined) {
    throw new DomainError(
      ErrorCode.Forbidden,
      'Only platform admins may filter by orgId.',
      'org_filter_not_allowed',
    );
  }
  // Only platform admins have no organisation; anyone else without one sees nothing.
  if (!user.orgId) throw new DomainError(ErrorCode.Forbidden, undefined, 'no_organization');
  return user.orgId;
}

/** What a refused read's record says: the refusal's reason and code, or an internal error. */
export function readFailureOf(error: unknown): { reason: string; code?: string } {
  if (error instanceof DomainError) return { reason: error.reason ?? 'refused', code: error.code };
  return { reason: 'internal_error', code: ErrorCode.InternalError };
}

/** The record of one read by `reader`: its outcome, and what was asked and returned in `details`. */
export function adminReadEvent(
  type: Extract<SecurityEventType, `admin.${string}`>,
  reader: AdminReader,
  details: Record<string, unknown>,
  failure?: { reason: string; code?: string },
): SecurityEvent {
  const { user, source, target } = reader;
  const base = {
    type,
    method: user.method,
    actor: { userId: user.userId, agentId: user.agentId ?? undefined, role: user.role },
    orgId: user.orgId ?? undefined,
    source,
    target,
    details,
  };
  return failure
    ? { ...base, outcome: 'failure', reason: failure.reason, code: failure.code }
    : { ...base, outcome: 'success' };
}
