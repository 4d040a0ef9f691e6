import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { SecurityEventBus } from './security/security-event-bus.service';

/**
 * Development conveniences are announced once, at boot, in the log and on the security-event bus
 * (`config.warning`), never per request.
 */
@Injectable()
export class BootWarnings implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootWarnings.name);

  constructor(
    private readonly config: AppConfig,
    private readonly bus: SecurityEventBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.auth.devBypass) {
      this.warn(
        'dev_bypass_enabled',
        'No token key source (AUTH_JWKS_URL, AUTH_JWT_SECRET, AUTH_PUBLIC_KEYS_FILE): development fallback ON — tokens are decoded, NOT verified. Never run like this in production.',
      );
    }
    if (this.config.ticketSecretGenerated) {
      this.warn(
        'ticket_secret_generated',
        'TICKET_SECRET not set: tickets are signed with a random per-boot secret (they will not survive a restart or work across instances).',
      );
    }
    if (this.config.isProduction && this.config.metrics.apiKeys.length === 0) {
      this.warn(
        'metrics_api_keys_missing',
        'METRICS_API_KEYS is not set: /metrics will answer internal requests only (METRICS_INTERNAL_CIDRS).',
      );
    }
  }

  private warn(reason: string, message: string): void {
    this.logger.warn(message);
    this.bus.publish({ type: 'config.warning', outcome: 'failure', reason, source: { transport: 'system' } });
  }
}
