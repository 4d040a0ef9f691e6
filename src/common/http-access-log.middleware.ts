import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { normaliseIp } from './client-ip';

/** Query parameters that carry credentials somewhere in signalgate (`/metrics?key=`, `?token=`). */
const SECRET_PARAMS = /^(key|token|ticket|access_token|api_key|apikey)$/i;

/**
 * One line per HTTP request at `LOG_LEVEL=debug`: method, URL, status, duration and client
 * address. Credentials in the query string are redacted, so a `/metrics?key=…` scrape never writes
 * its key to a log.
 */
@Injectable()
export class HttpAccessLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger(HttpAccessLogMiddleware.name);
  private readonly enabled: boolean;

  constructor(config: AppConfig) {
    this.enabled = config.logLevel === 'debug' || config.logLevel === 'verbose';
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.enabled) return next();
    const started = process.hrtime.bigint();
    // 'close' also fires for a request the client aborted, which 'finish' never reports.
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      this.logger.debug(
        `${req.method} ${redactUrl(req.originalUrl)} ${res.statusCode} ${ms.toFixed(1)}ms ${normaliseIp(req.ip)}`,
      );
    });
    next();
  }
}

/** The URL with the value of every credential-bearing query parameter replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const [name] = pair.split('=', 1);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape is compared as written.
      }
      return SECRET_PARAMS.test(decoded) ? `${name}=[REDACTED]` : pair;
    })
    .join('&');
  return `${url.slice(0, queryAt)}?${query}`;
}
