import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/errors/domain-error';
import { DEFAULT_MESSAGES, ErrorCode } from '../common/errors/error-code';
import type { SecurityActor, SecurityEventType, SecuritySource } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { LoginFailureBudget } from '../common/throttling/login-failure-budget.service';
import type { AgentIdentity, HandshakeIdentity } from '../common/socket/socket-data';
import { CredentialVerifier } from './credential-verifier.service';
import { AgentDirectory } from './directory/agent-directory.service';
import { DirectoryUser, Organization, Role, roleAtLeast } from './directory/directory.types';
import { hasExpired, type VerifiedClaims } from './token/token-verifier.types';

export interface LoginRequest {
  agentId: string;
  token?: string;
  /** The identity a valid handshake token established, used when `token` is omitted. */
  handshake?: HandshakeIdentity;
  /** The socket's current session: a login on an authenticated socket is a refresh. */
  current?: AgentIdentity;
}

export interface LoginResult {
  identity: AgentIdentity;
  user: DirectoryUser;
  organization: Organization;
  refreshed: boolean;
}

/** A user authenticated over HTTP by a Bearer token (admin routes, ticket exchange). */
export interface HttpIdentity {
  userId: string;
  agentId: string | null;
  orgId: string | null;
  role: Role;
  claims: VerifiedClaims;
  method: string;
}

export type SessionRefusal =
  typeof ErrorCode.AuthExpired | typeof ErrorCode.AuthRevoked | typeof ErrorCode.AuthAgentDisabled;

/**
 * The rules of agent authentication (DESIGN §3), free of transport types: guards and the gateway
 * ask, this service decides and publishes each decision on the security-event bus.
 */
@Injectable()
export class AgentAuthService {
  constructor(
    private readonly credentials: CredentialVerifier,
    private readonly directory: AgentDirectory,
    private readonly bus: SecurityEventBus,
    private readonly config: AppConfig,
    private readonly failures: LoginFailureBudget,
  ) {}

  /**
   * `agent:login`: verify → directory by `sub` → claimed agentId must match → active → not revoked.
   * A failure is counted against the login budgets (PROTOCOL §6) and published once: as the
   * failure it is, or, past a budget, as `ratelimit.blocked` answered RATE_LIMITED.
   */
  async login(request: LoginRequest, source: SecuritySource, nowMs = Date.now()): Promise<LoginResult> {
    const target = 'agent:login';
    const type: SecurityEventType = request.current !== undefined ? 'auth.refresh' : 'auth.login';
    let result: LoginResult;
    try {
      result = await this.verifyLogin(request, nowMs);
    } catch (error) {
      if (!(error instanceof LoginRefusal)) throw error;
      // Until a credential is verified the claimed agentId is only a claim: it goes to `details`,
      // never to `actor`, so nobody can get failures recorded against an agent they are not.
      const details = { claimedAgentId: request.agentId };
      const { code, reason, method, actor, orgId } = error;
      // An unreachable key server is not the client's failure: it spends no budget.
      const exhausted =
        code === ErrorCode.InternalError
          ? null
          : await this.failures.recordFailure({
              source,
              target,
              claimedAgentId: request.agentId,
              reason,
              method,
              orgId,
            });
      if (exhausted) throw new DomainError(ErrorCode.RateLimited, tooManyFailures(exhausted.retryAfterS));
      this.bus.publish({
        type,
        outcome: 'failure',
        reason,
        code,
        method,
        actor,
        orgId,
        source,
        target,
        details,
      });
      throw new DomainError(code, error.message);
    }
    const { identity, user } = result;
    const actor: SecurityActor = { userId: user.userId, agentId: identity.agentId, role: user.role };
    this.bus.publish({
      type,
      outcome: 'success',
      method: identity.method,
      actor,
      orgId: identity.orgId,
      source,
      target,
    });
    this.publishDevBypass(identity.method, actor, identity.orgId, source, target);
    return result;
  }

  /** The decision of `login`, without publishing: a refusal is a LoginRefusal saying why. */
  private async verifyLogin(request: LoginRequest, nowMs: number): Promise<LoginResult> {
    // Known once the credential is verified: failures after that say how it was presented.
    let method: string | undefined;
    const fail = (code: ErrorCode, reason: string, actor?: SecurityActor, orgId?: string): never => {
      throw new LoginRefusal(code, reason, method, actor, orgId);
    };

    let claims: VerifiedClaims;
    let user: DirectoryUser | undefined;

    if (request.token === undefined && request.handshake) {
      ({ method } = request.handshake);
      claims = {
        sub: request.handshake.userId,
        exp: request.handshake.exp,
        iat: request.handshake.iat,
        raw: {},
      };
      user = this.directory.findByUserId(claims.sub);
    } else {
      const verification = await this.credentials.verify(request.token);
      if (!verification.ok) return fail(verification.code, verification.reason);
      claims = verification.claims;
      method = verification.source;
      // Development fallback: the token is not verified, so the claimed agentId is what is trusted.
      user =
        method === 'dev_bypass'
          ? this.directory.findByAgentId(request.agentId)
          : this.directory.findByUserId(claims.sub);
    }

    if (!user) return fail(ErrorCode.AuthProfileNotFound, 'profile_not_found', { userId: claims.sub });
    const actor: SecurityActor = { userId: user.userId, agentId: user.agentId ?? undefined, role: user.role };
    const orgId = user.orgId ?? undefined;
    if (user.agentId !== request.agentId || !user.orgId) {
      return fail(ErrorCode.AuthAgentMismatch, 'agent_mismatch', actor, orgId);
    }
    if (request.current && request.current.agentId !== user.agentId) {
      return fail(ErrorCode.AuthAgentMismatch, 'socket_bound_to_other_agent', actor, orgId);
    }
    if (!user.active) return fail(ErrorCode.AuthAgentDisabled, 'agent_disabled', actor, orgId);
    if (this.isRevoked(user.agentId, claims.iat))
      return fail(ErrorCode.AuthRevoked, 'session_revoked', actor, orgId);
    if (this.isExpired(claims.exp, nowMs)) return fail(ErrorCode.AuthExpired, 'expired', actor, orgId);
    const organization = this.directory.getOrganization(user.orgId);
    if (!organization) return fail(ErrorCode.AuthProfileNotFound, 'organization_not_found', actor, orgId);

    const identity: AgentIdentity = {
      userId: user.userId,
      agentId: user.agentId,
      orgId: user.orgId,
      role: user.role,
      exp: claims.exp,
      iat: claims.iat,
      sessionId: request.current?.sessionId ?? randomUUID(),
      method: method ?? 'unknown',
    };
    return { identity, user, organization, refreshed: request.current !== undefined };
  }

  /** Whether a live session may still act (checked by the guards on every agent event). */
  sessionRefusal(identity: AgentIdentity, nowMs = Date.now()): SessionRefusal | null {
    if (this.isExpired(identity.exp, nowMs)) return ErrorCode.AuthExpired;
    if (this.isRevoked(identity.agentId, identity.iat)) return ErrorCode.AuthRevoked;
    const user = this.directory.findByUserId(identity.userId);
    if (!user || !user.active) return ErrorCode.AuthAgentDisabled;
    return null;
  }

  /** Bearer authentication for HTTP routes: the same verifier, the role from the directory. */
  async authenticateBearer(
    token: string | undefined,
    source: SecuritySource,
    target: string,
    guard: string,
  ): Promise<HttpIdentity> {
    const fail = (code: ErrorCode, reason: string, actor?: SecurityActor, orgId?: string): never => {
      const type =
        code === ErrorCode.AuthExpired
          ? 'auth.expired'
          : code === ErrorCode.AuthRevoked || code === ErrorCode.AuthAgentDisabled
            ? 'auth.forbidden'
            : 'auth.required';
      this.bus.publish({
        type,
        outcome: 'failure',
        reason,
        code,
        actor,
        orgId,
        source,
        target,
        details: { guard },
      });
      throw new DomainError(code, failureMessage(code, reason, 'http'));
    };
    if (!token) return fail(ErrorCode.AuthRequired, 'missing_token');
    const verification = await this.credentials.verify(token);
    if (!verification.ok) return fail(verification.code, verification.reason);
    const { claims, source: method } = verification;
    const user = this.directory.findByUserId(claims.sub);
    if (!user) return fail(ErrorCode.AuthInvalidToken, 'profile_not_found', { userId: claims.sub });
    const actor: SecurityActor = { userId: user.userId, agentId: user.agentId ?? undefined, role: user.role };
    const orgId = user.orgId ?? undefined;
    if (!user.active) return fail(ErrorCode.AuthAgentDisabled, 'agent_disabled', actor, orgId);
    if (user.agentId && this.isRevoked(user.agentId, claims.iat)) {
      return fail(ErrorCode.AuthRevoked, 'session_revoked', actor, orgId);
    }
    this.publishDevBypass(method, actor, orgId, source, target);
    return { userId: user.userId, agentId: user.agentId, orgId: user.orgId, role: user.role, claims, method };
  }

  /**
   * Bearer authentication plus a minimum role (any of `roles`; none means any directory user).
   * 401 comes before 403: a bad credential is refused before the role is looked at.
   */
  async authorizeBearer(
    token: string | undefined,
    roles: readonly Role[],
    source: SecuritySource,
    target: string,
    guard: string,
  ): Promise<HttpIdentity> {
    const identity = await this.authenticateBearer(token, source, target, guard);
    if (roles.length === 0 || roles.some((role) => roleAtLeast(identity.role, role))) return identity;
    this.bus.publish({
      type: 'auth.forbidden',
      outcome: 'failure',
      reason: 'insufficient_role',
      code: ErrorCode.Forbidden,
      actor: { userId: identity.userId, agentId: identity.agentId ?? undefined, role: identity.role },
      orgId: identity.orgId ?? undefined,
      source,
      target,
      details: { guard, required: roles },
    });
    throw new DomainError(ErrorCode.Forbidden);
  }

  /** Each decision the development fallback took instead of a verification (DESIGN §3). */
  private publishDevBypass(
    method: string,
    actor: SecurityActor,
    orgId: string | undefined,
    source: SecuritySource,
    target: string,
  ): void {
    if (method !== 'dev_bypass') return;
    this.bus.publish({
      type: 'auth.dev_bypass',
      outcome: 'success',
      reason: 'no_key_source',
      method,
      actor,
      orgId,
      source,
      target,
    });
  }

  /** Expired past `exp` + tolerance (DESIGN §3), at verification and on live sockets alike. */
  isExpired(expSeconds: number, nowMs: number): boolean {
    return hasExpired(expSeconds, this.config.auth.clockToleranceS, nowMs);
  }

  /** A revocation refuses every token whose `iat` is not strictly later than it (whole seconds). */
  isRevoked(agentId: string, iat: number): boolean {
    const revokedAt = this.directory.revokedAt(agentId);
    return revokedAt !== undefined && Math.floor(iat) <= revokedAt;
  }
}

/** A login refused, with what its record says; `login` decides how it is published and answered. */
class LoginRefusal extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly method: string | undefined,
    readonly actor: SecurityActor | undefined,
    readonly orgId: string | undefined,
  ) {
    super(failureMessage(code, reason));
  }
}

/** What a client told RATE_LIMITED for its failed logins reads: what happened and when to retry. */
export function tooManyFailures(retryAfterS: number): string {
  return `Too many failed login attempts. Retry in ${retryAfterS} s.`;
}

/** Messages that tell the client what to do; the codes stay those of PROTOCOL §6. */
function failureMessage(code: ErrorCode, reason: string, transport: 'ws' | 'http' = 'ws'): string {
  if (reason === 'jwks_unavailable') return 'The token keys are unavailable right now. Please retry.';
  if (code === ErrorCode.AuthRequired && transport === 'http') {
    return 'Authentication required: send Authorization: Bearer <token>.';
  }
  return DEFAULT_MESSAGES[code];
}
