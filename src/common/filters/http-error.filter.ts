import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { isStateUnavailable, STATE_UNAVAILABLE_MESSAGE } from '../redis/state-unavailable';
import type { Request, Response } from 'express';
import { DomainError } from '../errors/domain-error';
import { DEFAULT_MESSAGES, ErrorCode } from '../errors/error-code';

export interface HttpErrorBody {
  statusCode: number;
  error: string;
  code: string;
  details?: unknown;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.InvalidPayload,
  401: ErrorCode.AuthRequired,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  429: ErrorCode.RateLimited,
  503: ErrorCode.InternalError,
};

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID_TOKEN: 401,
  AUTH_EXPIRED: 401,
  AUTH_REVOKED: 401,
  AUTH_PROFILE_NOT_FOUND: 403,
  AUTH_AGENT_DISABLED: 403,
  AUTH_AGENT_MISMATCH: 403,
  FORBIDDEN: 403,
  INVALID_PAYLOAD: 400,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  ORG_NOT_FOUND: 404,
  // Thrown deliberately only for a dependency that does not answer (e.g. the JWKS server).
  INTERNAL_ERROR: 503,
};

/** Every HTTP error leaves as `{statusCode, error, code}` (PROTOCOL §4); logged once, here. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const body = this.toBody(exception, request);
    if (response.headersSent) return;
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, request: Request): HttpErrorBody {
    if (exception instanceof DomainError) {
      const statusCode = STATUS_BY_CODE[exception.code] ?? 400;
      return { statusCode, error: exception.message, code: exception.code };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      const fromBody = typeof response === 'object' ? (response as Record<string, unknown>) : {};
      const code = (fromBody.code as string | undefined) ?? codeForStatus(statusCode);
      const error =
        typeof fromBody.error === 'string' && fromBody.code
          ? fromBody.error
          : typeof response === 'string'
            ? response
            : withoutQuery(exception.message);
      const body: HttpErrorBody = { statusCode, error, code };
      if (fromBody.details) body.details = fromBody.details;
      return body;
    }
    const error = exception as Error & { status?: unknown; expose?: unknown };
    // Express middleware (body-parser: 413 too large, 400 bad JSON, 415 charset) fails with
    // http-errors objects: the client's mistake, answered with its status and no stack in the log.
    if (typeof error?.status === 'number' && error.status >= 400 && error.status < 500 && error.expose) {
      return { statusCode: error.status, error: error.message, code: codeForStatus(error.status) };
    }
    if (isStateUnavailable(error)) {
      // An outage (reported once by RedisConnections): 503, so that clients and balancers retry.
      this.logger.warn(`${request.method} ${request.path} refused: redis unavailable (${error.message})`);
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: STATE_UNAVAILABLE_MESSAGE,
        code: ErrorCode.InternalError,
      };
    }
    // The raw URL can carry `?key=`; log the path only.
    this.logger.error(`${request.method} ${request.path} failed: ${error?.message}`, error?.stack);
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: DEFAULT_MESSAGES.INTERNAL_ERROR,
      code: ErrorCode.InternalError,
    };
  }
}

function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status < 500 ? ErrorCode.InvalidPayload : ErrorCode.InternalError);
}

/** Nest's "Cannot GET /path?query" echoes the URL; a query may carry a credential (`?key=`). */
function withoutQuery(message: string): string {
  return message.replace(/\?\S*/, '');
}
