import { Controller, Get, HttpCode, HttpStatus, Logger, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  type SchemaObject,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../common/access/public.decorator';
import { DatabaseService } from '../common/database/database.service';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { ShutdownState } from '../common/shutdown-state.service';

/** Probes for orchestrators. Exempt from rate limits; no dependency details leave the process. */
@ApiTags('health')
@Controller()
@SkipThrottle()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly database: DatabaseService,
    private readonly shutdown: ShutdownState,
    private readonly redis: RedisConnections,
  ) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'Liveness of the HTTP layer', description: 'No dependency details (see /ready).' })
  @ApiOkResponse({ schema: objectSchema({ status: { type: 'string', enum: ['ok'] } }) })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('live')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Liveness probe', description: '200 whenever the process runs.' })
  @ApiOkResponse({ schema: objectSchema({ live: { type: 'boolean', enum: [true] } }) })
  live(): { live: true } {
    return { live: true };
  }

  /** 503 while shutting down or when the database or Redis does not answer; the reason goes to the log. */
  @Public()
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness probe',
    description:
      'Ready unless shutting down or a dependency (the database, Redis when configured) does not answer; details are logged.',
  })
  @ApiOkResponse({
    description: 'Ready.',
    schema: objectSchema({ ready: { type: 'boolean', enum: [true] } }),
  })
  @ApiServiceUnavailableResponse({
    description: 'Shutting down or a dependency is down.',
    schema: objectSchema({ ready: { type: 'boolean', enum: [false] } }),
  })
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ ready: boolean }> {
    let reason: string | null = null;
    if (this.shutdown.isShuttingDown) reason = 'shutting down';
    else if (!(await this.database.ping())) reason = 'database unreachable';
    else if (!(await this.redis.ping())) reason = 'redis unreachable';
    if (reason) {
      this.logger.warn(`not ready: ${reason}`);
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { ready: false };
    }
    return { ready: true };
  }
}

/** A closed object schema whose properties are all required (the probes' bodies are fixed). */
function objectSchema(properties: Record<string, SchemaObject>): SchemaObject {
  return { type: 'object', properties, required: Object.keys(properties) };
}
