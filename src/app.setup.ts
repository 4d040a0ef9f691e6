import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { AgentAuthService } from './auth/agent-auth.service';
import { DocsAccessMiddleware } from './auth/docs-access.middleware';
import { ErrorCode } from './common/errors/error-code';
import { isDocsPath, serveOpenApi } from './common/openapi/openapi';
import { SocketEventObserver } from './common/socket/socket-event-observer';
import { toFieldErrors } from './common/validation/validation-details';
import { AppConfig } from './config/app-config';
import { RedisConnections } from './common/redis/redis-connections.service';
import { SocketDrain } from './transport/socket-drain.service';
import { SignalgateIoAdapter } from './transport/signalgate-io.adapter';

/**
 * Everything the HTTP/WS server needs besides the module graph, shared by main.ts and the e2e
 * tests so that tests exercise exactly what production runs.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.set('trust proxy', config.trustProxy);
  // Swagger UI loads only same-origin scripts, so the default CSP stands, except
  // `upgrade-insecure-requests`: over plain HTTP (a developer's http://localhost) some browsers would
  // rewrite the UI's own assets to https:// and show a blank page. Nothing else is relaxed.
  const defaultHeaders = helmet();
  const docsHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use((req: Request, res: Response, next: NextFunction) =>
    (isDocsPath(req.path) ? docsHeaders : defaultHeaders)(req, res, next),
  );
  const origins = config.corsOrigins;
  app.enableCors({ origin: origins === '*' ? '*' : [...origins], credentials: origins !== '*' });
  app.useWebSocketAdapter(
    new SignalgateIoAdapter(
      app,
      config,
      app.get(SocketEventObserver),
      app.get(RedisConnections),
      app.get(SocketDrain),
    ),
  );
  // OpenAPI at /docs, /docs-json, /docs-yaml (PROTOCOL §4). These are Express routes, outside Nest's
  // guards and the default-deny boot check, so their access rule is middleware mounted before them.
  if (!config.publicDocsEnabled) {
    app.use(new DocsAccessMiddleware(app.get(AgentAuthService)).use);
  }
  serveOpenApi(app);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({
          statusCode: 400,
          error: 'The request is invalid.',
          code: ErrorCode.InvalidPayload,
          details: toFieldErrors(errors),
        }),
    }),
  );
}
