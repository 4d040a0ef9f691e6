import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import proxyAddr from 'proxy-addr';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { httpSource, routeTarget } from '../common/http-source';
import { fingerprint } from '../common/security/fingerprint';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { SecuritySource } from '../common/security/security-event';
import { AppConfig } from '../config/app-config';
import { decideMetricsAccess } from './metrics-access-policy';
import { KeyRing, presentedKey } from './metrics-api-key';
import { MetricsCooldownStore } from './metrics-cooldown.store';

/**
 * `@MetricsApiKey()` (PROTOCOL §4 "Metrics authentication"): an address cooling down after repeated
 * wrong keys gets 429 whatever it presents; otherwise `decideMetricsAccess` applies the rules to
 * what the request carries (keys compared as SHA-256 digests in constant time; the internal header
 * honoured only from METRICS_INTERNAL_CIDRS, and only when the address is really the client's).
 * Every decision is published as `metrics.access`, a key only as a 12-character fingerprint; an
 * internal header that was not honoured is also published as `metrics.internal_spoof`.
 */
@Injectable()
export class MetricsApiKeyGuard implements CanActivate {
  private readonly logger = new Logger(MetricsApiKeyGuard.name);
  private readonly keys: KeyRing;
  private readonly isInternal: (address: string) => boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
    private readonly cooldown: MetricsCooldownStore,
  ) {
    this.keys = new KeyRing(config.metrics.apiKeys);
    const trusted = proxyAddr.compile([...config.metrics.internalCidrs]);
    this.isInternal = (address) => trusted(address, 0);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const source = httpSource(req);
    const target = routeTarget(req);
    const ip = source.ip ?? '';

    const coolingMs = await this.cooldown.remaining(ip);
    if (coolingMs > 0) {
      context
        .switchToHttp()
        .getResponse<Response>()
        .setHeader('Retry-After', String(Math.ceil(coolingMs / 1000)));
      this.publish(source, target, 'failure', 'cooling_down', ErrorCode.RateLimited);
      throw new DomainError(ErrorCode.RateLimited, 'Too many failed attempts. Retry later.');
    }

    const presented = presentedKey(req);
    const { decision, spoof } = decideMetricsAccess(
      {
        presented,
        claimsInternal: req.get('x-internal-request')?.trim().toLowerCase() === 'true',
        fromInternalNetwork: this.isInternal(ip),
        untrustedForwarding:
          (req.get('x-forwarded-for') ?? req.get('forwarded')) !== undefined && req.ips.length === 0,
      },
      {
        keysConfigured: this.keys.size > 0,
        production: this.config.isProduction,
        keyMatches: (key) => this.keys.matches(key),
      },
    );
    if (spoof)
      this.bus.publish({ type: 'metrics.internal_spoof', outcome: 'failure', reason: spoof, source, target });
    const details = presented
      ? {
          keySource: presented.source,
          keyFingerprint: fingerprint(presented.key),
          keysConfigured: this.keys.size > 0,
        }
      : { keysConfigured: this.keys.size > 0 };
    if (decision.allow) {
      this.publish(source, target, 'success', decision.reason, undefined, details);
      return true;
    }
    // Only a wrong key counts towards the cool-down: it is what guessing looks like, while a
    // request without any key (a browser, an uptime probe behind the same NAT) must not lock the
    // real scraper out.
    if (decision.reason === 'invalid_key' && (await this.cooldown.recordFailure(ip))) {
      this.logger.warn(`metrics: ${ip} cooled down after repeated wrong keys`);
    }
    const code = decision.reason === 'missing_key' ? ErrorCode.AuthRequired : ErrorCode.Forbidden;
    this.publish(source, target, 'failure', decision.reason, code, details);
    throw new DomainError(code, decision.reason === 'missing_key' ? 'API key required' : 'Invalid API key');
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
