import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { DeclareAccess } from '../common/access/access-kind';
import { ApiErrorResponse, METRICS_KEY_SCHEME } from '../common/openapi/openapi';
import { HttpBudget } from '../common/throttling/http-budget.decorator';
import { MetricsApiKeyGuard } from './metrics-api-key.guard';

/**
 * An HTTP route for scrapers holding a metrics API key (or inside METRICS_INTERNAL_CIDRS with
 * `x-internal-request: true`), on its own rate-limit budget (RATE_LIMIT_METRICS_MAX per IP).
 */
export const MetricsApiKey = (): MethodDecorator =>
  applyDecorators(
    DeclareAccess('metrics'),
    HttpBudget('metrics'),
    UseGuards(MetricsApiKeyGuard),
    ApiSecurity(METRICS_KEY_SCHEME),
    ApiErrorResponse(401, 'No key presented (`AUTH_REQUIRED`, body error "API key required").'),
    ApiErrorResponse(403, 'The key is not one of METRICS_API_KEYS (`FORBIDDEN`, "Invalid API key").'),
    ApiErrorResponse(429, 'Rate limited, or cooling down after repeated failures (`RATE_LIMITED`).'),
  );
