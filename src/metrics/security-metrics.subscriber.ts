import { Injectable } from '@nestjs/common';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { boundedLabel } from './metric-labels';
import { MetricsInstruments } from './metrics-instruments.service';

/** The decisions that check a credential (an agent's token, a refresh, a handshake token). */
const CREDENTIAL_CHECKS: ReadonlySet<string> = new Set(['auth.login', 'auth.refresh', 'auth.handshake']);

/**
 * Counts what the security-event bus carries, so that no publisher knows about metrics:
 * authentication attempts, guard refusals, rate-limit blocks and metrics-scrape decisions.
 */
@Injectable()
export class SecurityMetricsSubscriber {
  constructor(
    bus: SecurityEventBus,
    private readonly instruments: MetricsInstruments,
  ) {
    bus.subscribe((event) => this.count(event));
  }

  count(event: Readonly<SecurityEvent>): void {
    if (CREDENTIAL_CHECKS.has(event.type)) {
      this.instruments.authAttempts.inc({
        method: boundedLabel(event.method, 'unknown'),
        outcome: event.outcome,
        reason: boundedLabel(event.reason),
      });
    }
    const guard = event.details?.guard;
    if (event.outcome === 'failure' && typeof guard === 'string') {
      this.instruments.guardRejections.inc({ guard: boundedLabel(guard), code: boundedLabel(event.code) });
    }
    if (event.type === 'ratelimit.blocked') {
      const scope = event.details?.scope;
      this.instruments.rateLimited.inc({
        scope: boundedLabel(typeof scope === 'string' ? scope : undefined),
      });
    }
    if (event.type === 'metrics.access') this.instruments.metricsScrapes.inc({ outcome: event.outcome });
  }
}
