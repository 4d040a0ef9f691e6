import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { ErrorCode } from '../errors/error-code';
import type { SecuritySource } from '../security/security-event';
import { SecurityEventBus } from '../security/security-event-bus.service';

/** Which budget a refused credential check ran out of. */
export type LoginBudget = 'ip' | 'agent';

export interface LoginBudgetExhausted {
  budget: LoginBudget;
  /** Whole seconds until the budget has room again. */
  retryAfterS: number;
}

/** A credential check that failed, as its caller would record it. */
export interface FailedCredentialCheck {
  source: SecuritySource;
  /** `agent:login`, or `connection` for a handshake token. */
  target: string;
  /** The agentId the attempt claimed (unverified), when it named one. */
  claimedAgentId?: string;
  /** Why it failed (`malformed`, `expired`…): recorded with the block, never sent to the client. */
  reason: string;
  method?: string;
  orgId?: string;
}

const THROTTLER = 'login-failures';

/**
 * The budgets of failed credential checks (PROTOCOL §6): RATE_LIMIT_LOGIN_MAX failures per IP and
 * RATE_LIMIT_LOGIN_AGENT_MAX per claimed agentId, per window. Only failures are counted: a call
 * centre's agents share one public address, and their sign-ins (and hourly token refreshes) must
 * never use up a budget that then locks them all out. Because a valid credential is never refused,
 * nobody can lock an agent out by failing logins in its name either; past a budget, failures are
 * answered RATE_LIMITED, so a guesser learns nothing more about why its tokens fail. A refused
 * handshake token counts against the IP budget too: its connect_error tells valid from invalid.
 * Counted in @nestjs/throttler's storage, beside every other budget: with REDIS_URL set that is
 * RedisThrottlerStorage, so the budgets are spent by the failures at every instance together.
 */
@Injectable()
export class LoginFailureBudget {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
  ) {}

  /**
   * Counts one failure against its IP (and its claimed agent, when it named one). When that was
   * over a budget, the block is published as `ratelimit.blocked` — in place of the failure's own
   * record — and returned, so that the caller answers RATE_LIMITED instead of the reason.
   */
  async recordFailure(attempt: FailedCredentialCheck): Promise<LoginBudgetExhausted | null> {
    const { enabled, windowMs, loginMax, loginAgentMax } = this.config.rateLimit;
    if (!enabled) return null;
    const { source, target, claimedAgentId } = attempt;
    const byIp = await this.spend(`ip:${source.ip ?? 'unknown'}`, loginMax, windowMs);
    const byAgent =
      claimedAgentId === undefined
        ? null
        : await this.spend(`agent:${claimedAgentId}`, loginAgentMax, windowMs);
    const exhausted: LoginBudgetExhausted | null =
      byIp !== null
        ? { budget: 'ip', retryAfterS: byIp }
        : byAgent !== null
          ? { budget: 'agent', retryAfterS: byAgent }
          : null;
    if (exhausted)
      this.bus.publish({
        type: 'ratelimit.blocked',
        outcome: 'failure',
        reason: 'rate_limited',
        code: ErrorCode.RateLimited,
        method: attempt.method,
        orgId: attempt.orgId,
        source,
        target,
        details: {
          ...(claimedAgentId !== undefined ? { claimedAgentId } : {}),
          scope: 'login',
          budget: exhausted.budget,
          refusedWith: attempt.reason,
        },
      });
    return exhausted;
  }

  /** Seconds until the budget has room again when this failure was over it; null otherwise. */
  private async spend(tracker: string, limit: number, windowMs: number): Promise<number | null> {
    const record = await this.storage.increment(
      `login-failures|${tracker}`,
      windowMs,
      limit,
      windowMs,
      THROTTLER,
    );
    return record.isBlocked ? Math.max(1, record.timeToBlockExpire) : null;
  }
}
