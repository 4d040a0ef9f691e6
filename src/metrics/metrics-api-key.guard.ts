import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import proxyAddr from 'proxy-addr';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { httpSource, routeTarget } from '../common/http-source';
import { fingerprint } from '../common/security/fingerprint';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { SecuritySource } from '../common/security/security-event';
import { AppConfig } from '../config/app-config';
import { KeyRing, presentedKey } from './metrics-api-key';
import { MetricsFailureCooldown } from './metrics-failure-cooldown';

type Decision =
  | {
      allow: true;
      reason: 'api_key' | 'internal_request' | 'development_open';
      details?: Record<string, unknown>;
    }
  | { allow: false; reason: 'missing_key' | 'invalid_key'; details?: Record<string, unknown> };

/**
 * `@MetricsApiKey()` (PROTOCOL §4 "Metrics authentication"), in order: an address cooling down
 * after repeated failures gets 429 whatever it presents; a presented key must match one of
 * METRICS_API_KEYS (SHA-256 digests, constant time); `x-internal-request: true` is honoured only
 * from METRICS_INTERNAL_CIDRS (elsewhere it is ignored and recorded as a spoof); without keys
 * configured, development is open and production lets internal requests only. Every decision is
 * published as `metrics.access`; a key appears in it only as a 12-character fingerprint.
 */
@Injectable()
export class MetricsApiKeyGuard implements CanActivate {
  private readonly keys: KeyRing;
  private readonly isInternal: (address: string) => boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
    private readonly cooldown: MetricsFailureCooldown,
  ) {
    this.keys = new KeyRing(config.metrics.apiKeys);
    const trusted = proxyAddr.compile([...config.metrics.internalCidrs]);
    this.isInternal = (address) => trusted(address, 0);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const source = httpSource(req);
    const target = routeTarget(req);
    const ip = source.ip ?? '';

    const coolingMs = this.cooldown.remainingMs(ip);
    if (coolingMs > 0) {
      context
        .switchToHttp()
        .getResponse<Response>()
        .setHeader('Retry-After', String(Math.ceil(coolingMs / 1000)));
      this.publish(source, target, 'failure', 'cooling_down', ErrorCode.RateLimited);
      throw new DomainError(ErrorCode.RateLimited, 'Too many failed attempts. Retry later.');
    }

    const decision = this.decide(req, source, target, ip);
    if (decision.allow) {
      this.publish(source, target, 'success', decision.reason, undefined, decision.details);
      return true;
    }
    this.cooldown.fail(ip);
    const code = decision.reason === 'missing_key' ? ErrorCode.AuthRequired : ErrorCode.Forbidden;
    this.publish(source, target, 'failure', decision.reason, code, decision.details);
    throw new DomainError(code, decision.reason === 'missing_key' ? 'API key required' : 'Invalid API key');
  }

  private decide(req: Request, source: SecuritySource, target: string, ip: string): Decision {
    const keysConfigured = this.keys.size > 0;
    const presented = presentedKey(req);
    if (presented) {
      const details = { keySource: presented.source, keyFingerprint: fingerprint(presented.key) };
      return keysConfigured && this.keys.matches(presented.key)
        ? { allow: true, reason: 'api_key', details }
        : { allow: false, reason: 'invalid_key', details: { ...details, keysConfigured } };
    }
    if (this.claimsInternal(req)) {
      if (this.isInternal(ip)) return { allow: true, reason: 'internal_request' };
      this.bus.publish({
        type: 'metrics.internal_spoof',
        outcome: 'failure',
        reason: 'not_internal_network',
        source,
        target,
      });
    }
    if (!keysConfigured && !this.config.isProduction) return { allow: true, reason: 'development_open' };
    return { allow: false, reason: 'missing_key', details: { keysConfigured } };
  }

  private claimsInternal(req: Request): boolean {
    return req.get('x-internal-request')?.trim().toLowerCase() === 'true';
  }

  private publish(
    source: SecuritySource,
    target: string,
    outcome: 'success' | 'failure',
    reason: string,
    code?: ErrorCode,
    details: Record<string, unknown> = {},
  ): void {
    this.bus.publish({
      type: 'metrics.access',
      outcome,
      reason,
      method: reason === 'api_key' ? 'api_key' : reason === 'internal_request' ? 'internal' : 'none',
      code,
      source,
      target,
      details: { ...details, guard: MetricsApiKeyGuard.name },
    });
  }
}
