import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { LOGIN_EVENT, LOGIN_THROTTLER, socketThrottleKey } from './socket-rate-limits';

/**
 * The per-IP budget of credential checks (PROTOCOL §6, `agent:login` 10 per IP). A token in the
 * Socket.IO handshake is a credential check too — its connect_error tells valid from invalid — so
 * the handshake spends from the same counter as `agent:login`, in the same throttler storage.
 */
@Injectable()
export class LoginAttemptLimiter {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /** Counts one attempt from `ip`; true when the budget was already spent (the attempt is refused). */
  async spend(ip: string): Promise<boolean> {
    const { enabled, windowMs, loginMax } = this.config.rateLimit;
    if (!enabled) return false;
    const key = socketThrottleKey(LOGIN_EVENT, `ip:${ip}`);
    const { isBlocked } = await this.storage.increment(key, windowMs, loginMax, windowMs, LOGIN_THROTTLER);
    return isBlocked;
  }
}
