import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsInstruments } from './metrics-instruments.service';

/**
 * Times every HTTP request (`signalgate_http_request_duration_seconds{method,route,status}`),
 * including those a guard refused. `route` is Express's route template (`/admin/audit/events/:id`),
 * never the raw path, so ids and query strings (`?key=`) never become labels; a request that matched
 * no route is `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly instruments: MetricsInstruments) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    // 'close' also fires for a request the client aborted, which 'finish' never reports.
    res.once('close', () => {
      const template = (req.route as { path?: string } | undefined)?.path;
      this.instruments.httpRequestDuration.observe(
        {
          method: req.method,
          route: template ? `${req.baseUrl ?? ''}${template}` : 'unmatched',
          status: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  }
}
