import { Injectable, Logger } from '@nestjs/common';
import { SecurityEvent } from './security-event';
import { SecurityEventBus } from './security-event-bus.service';

/**
 * Writes each security decision as one structured log line. Events carry no credentials by
 * construction (see SecurityEvent), so the line is safe to ship to a log store.
 */
@Injectable()
export class SecurityLogSubscriber {
  private readonly logger = new Logger(SecurityLogSubscriber.name);

  // Subscribed at construction, before any module's init hook can publish (boot warnings, seeding).
  constructor(private readonly bus: SecurityEventBus) {
    this.bus.subscribe((event) => this.write(event));
  }

  private write(event: Readonly<SecurityEvent>): void {
    const line = JSON.stringify({
      type: event.type,
      outcome: event.outcome,
      reason: event.reason,
      actor: event.actor,
      orgId: event.orgId,
      source: event.source,
      target: event.target,
    });
    if (event.outcome === 'failure') this.logger.warn(line);
    else this.logger.log(line);
  }
}
