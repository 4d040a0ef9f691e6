import type { INestApplication } from '@nestjs/common';
import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorBodyDto } from './error-body.dto';

/** Where the UI is served; the JSON and YAML documents are at `${DOCS_PATH}-json` / `-yaml`. */
export const DOCS_PATH = 'docs';

/** The security scheme `@AdminAuth()` refers to (`ApiBearerAuth(BEARER_SCHEME)`). */
export const BEARER_SCHEME = 'bearer';

/** The security scheme `@MetricsApiKey()` refers to: the `x-metrics-api-key` header. */
export const METRICS_KEY_SCHEME = 'metricsApiKey';

/**
 * Every path the docs are served under, matched the way Express routes them (case-insensitively,
 * trailing slash optional): the UI at `/docs`, its assets and the document-bearing
 * `swagger-ui-init.js` under `/docs/`, and the raw documents at `/docs-json` and `/docs-yaml`.
 */
const DOCS_PATHS = new RegExp(`^/${DOCS_PATH}(?:-json|-yaml)?(?:/|$)`, 'i');

export function isDocsPath(path: string): boolean {
  return DOCS_PATHS.test(path);
}

/**
 * An error response of a route: `{statusCode, error, code}` as JSON. The content is spelled out
 * rather than left to `type`, because `type` follows the route's `@ApiProduces` (a CSV export would
 * claim CSV errors) while `HttpErrorFilter` always answers JSON.
 */
export const ApiErrorResponse = (status: number, description: string): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(ErrorBodyDto),
    ApiResponse({
      status,
      description,
      content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBodyDto) } } },
      ...(status === 401
        ? { headers: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } } }
        : {}),
    }),
  );

/** The OpenAPI document of every controller route; the access decorators add the security parts. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('signalgate')
    .setDescription(
      'Authenticated, audited WebRTC signaling backend. The signaling itself is Socket.IO (see ' +
        'PROTOCOL.md); this document covers the HTTP routes. Errors are `{statusCode, error, code}`.',
    )
    .setVersion(packageVersion())
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A Supabase access token of a directory user; the role comes from the directory.',
      },
      BEARER_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-metrics-api-key',
        description:
          'One of METRICS_API_KEYS. Also accepted as `Authorization: Bearer`, the basic-auth password or `?key=`.',
      },
      METRICS_KEY_SCHEME,
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the UI at `/docs` and the document at `/docs-json` (and `/docs-yaml`). The document is
 * built here, at boot, so that a broken annotation fails the start rather than the first visit.
 * Whoever may read it is decided before this is called (see `configureApp`).
 */
export function serveOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, { customSiteTitle: 'signalgate API' });
  return document;
}

/** package.json is the repository root, three levels up from src/common/openapi and dist/common/openapi. */
function packageVersion(): string {
  const file = join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
