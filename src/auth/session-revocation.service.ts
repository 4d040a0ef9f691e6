import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { SecurityActor, SecuritySource } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { HttpIdentity } from './agent-auth.service';
import { AgentDirectory } from './directory/agent-directory.service';
import type { DirectoryUser } from './directory/directory.types';
import { SessionTerminator } from './session-terminator';

/** What `POST /admin/agents/:agentId/revoke` answers (PROTOCOL §4). */
export interface RevocationResult {
  /** ISO 8601; tokens of the agent issued at or before this second are refused. */
  revokedAt: string;
  /** Sockets of the agent that were told `session:revoked` and disconnected. */
  disconnected: number;
}

/** Where the admin's request came from, for the security record. */
export interface RevocationRequest {
  source: SecuritySource;
  /** `METHOD /route/template`. */
  target: string;
}

/** Sent with `session:revoked` (PROTOCOL §2.3) just before the socket is disconnected. */
export const SESSION_REVOKED_MESSAGE = 'Your session was revoked by an administrator. Please login again.';

/**
 * Admin revocation of an agent's sessions (DESIGN §3): from the stored time on, every token of the
 * agent issued at or before it is refused (login, handshake, guards, HTTP), and the sessions that
 * are live now are ended through the registered SessionTerminators. With several instances, the
 * directory tells every instance of the revocation (RevocationFeed) and the terminators reach the
 * sockets every instance holds.
 */
@Injectable()
export class SessionRevocationService {
  private readonly logger = new Logger(SessionRevocationService.name);
  private readonly terminators = new Set<SessionTerminator>();

  constructor(
    private readonly directory: AgentDirectory,
    private readonly bus: SecurityEventBus,
  ) {}

  /**
   * Transports that hold sessions register here (auth cannot import them). Returns the function
   * that unregisters the terminator.
   */
  registerTerminator(terminator: SessionTerminator): () => void {
    this.terminators.add(terminator);
    return () => this.terminators.delete(terminator);
  }

  /**
   * Revokes every session of `agentId` on behalf of `admin`. Admins reach their own organisation
   * only, platform admins every one; an agent out of reach is answered exactly like an unknown one
   * (404), so that nothing about other organisations is revealed.
   */
  async revoke(
    admin: HttpIdentity,
    agentId: string,
    request: RevocationRequest,
    nowMs = Date.now(),
  ): Promise<RevocationResult> {
    const actor: SecurityActor = {
      userId: admin.userId,
      agentId: admin.agentId ?? undefined,
      role: admin.role,
    };
    const agent = this.directory.findByAgentId(agentId);
    if (!agent || !mayRevoke(admin, agent)) {
      // Recorded under the caller's organisation: the attempt is theirs, the target's is not revealed.
      this.bus.publish({
        type: 'auth.session_revoked',
        outcome: 'failure',
        reason: 'agent_not_found',
        code: ErrorCode.NotFound,
        method: admin.method,
        actor,
        orgId: admin.orgId ?? undefined,
        ...request,
        details: { agentId },
      });
      throw new DomainError(ErrorCode.NotFound, 'Agent not found.');
    }

    // Whole seconds, as tokens' `iat`: a token issued within this very second is refused too.
    const revokedAtSec = Math.floor(nowMs / 1000);
    const revokedAt = new Date(revokedAtSec * 1000).toISOString();
    // Stored, and told to every instance, before any socket is told, so that a client reconnecting
    // at once (to any instance) is already refused.
    const everywhere = await this.directory.revoke(agentId, revokedAtSec);
    this.bus.publish({
      type: 'auth.session_revoked',
      outcome: 'success',
      method: admin.method,
      actor,
      orgId: agent.orgId ?? undefined,
      ...request,
      details: { agentId, revokedAt },
    });

    const disconnected = await this.terminate(agentId);
    this.logger.log(
      `agent ${agentId}: sessions revoked by ${admin.userId}; ${disconnected} socket(s) disconnected`,
    );
    // Stored and in force here, but other instances may still accept the agent's tokens until they
    // reload the revocations: the admin must know, and may retry.
    if (!everywhere)
      throw new DomainError(
        ErrorCode.InternalError,
        'The revocation is stored, but not every instance could be told yet. Please retry.',
      );
    return { revokedAt, disconnected };
  }

  private async terminate(agentId: string): Promise<number> {
    const results = await Promise.allSettled(
      [...this.terminators].map((terminator) => terminator.terminate(agentId, SESSION_REVOKED_MESSAGE)),
    );
    let disconnected = 0;
    let failures = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') {
        disconnected += result.value;
      } else {
        failures += 1;
        const error = result.reason as Error;
        this.logger.error(`agent ${agentId}: ending live sessions failed: ${error?.message}`, error?.stack);
      }
    }
    // The revocation stands (guards refuse the sessions on their next event), but a socket left
    // connected would keep receiving the agent's events: the admin must know, and may retry.
    if (failures > 0) {
      throw new DomainError(
        ErrorCode.InternalError,
        'The revocation is stored, but some live sessions could not be disconnected. Please retry.',
      );
    }
    return disconnected;
  }
}

function mayRevoke(admin: HttpIdentity, agent: DirectoryUser): boolean {
  if (admin.role === 'platform_admin') return true;
  return admin.orgId !== null && admin.orgId === agent.orgId;
}
