import { Controller, Get, HttpCode, HttpStatus, Logger, Res } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../common/access/public.decorator';
import { DatabaseService } from '../common/database/database.service';
import { ShutdownState } from '../common/shutdown-state.service';

/** Probes for orchestrators. Exempt from rate limits; no dependency details leave the process. */
@Controller()
@SkipThrottle()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly database: DatabaseService,
    private readonly shutdown: ShutdownState,
  ) {}

  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('live')
  @HttpCode(HttpStatus.OK)
  live(): { live: true } {
    return { live: true };
  }

  /** 503 while shutting down or when the database does not answer; the reason goes to the log. */
  @Public()
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ ready: boolean }> {
    let reason: string | null = null;
    if (this.shutdown.isShuttingDown) reason = 'shutting down';
    else if (!(await this.database.ping())) reason = 'database unreachable';
    if (reason) {
      this.logger.warn(`not ready: ${reason}`);
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { ready: false };
    }
    return { ready: true };
  }
}
