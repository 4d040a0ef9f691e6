import { BadRequestException, INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { ServerOptions } from 'socket.io';
import { AgentAuthService } from './auth/agent-auth.service';
import { DocsAccessMiddleware } from './auth/docs-access.middleware';
import { ErrorCode } from './common/errors/error-code';
import { isDocsPath, serveOpenApi } from './common/openapi/openapi';
import { refusalOf, SocketEventObserver, trackedAck } from './common/socket/socket-event-observer';
import { toFieldErrors } from './common/validation/validation-details';
import { AppConfig } from './config/app-config';

/** PROTOCOL §1: an SDP fits in 64 KiB; a flood does not. */
export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;

/**
 * Socket.IO with the configured CORS origins and frame limit (the gateway decorator is static),
 * and every dispatched event reported to the SocketEventObserver: timed around Nest's whole edge
 * here, once, rather than by an interceptor — Nest's interceptor chain costs more per event than
 * everything else the edge does (see README, Performance).
 */
export class SignalgateIoAdapter extends IoAdapter {
  constructor(
    app: INestApplication,
    private readonly config: AppConfig,
    private readonly observer: SocketEventObserver,
  ) {
    super(app);
  }

  override bindMessageHandlers(
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    super.bindMessageHandlers(
      socket,
      handlers.map((handler) => ({
        ...handler,
        callback: this.observed(String(handler.message), handler.callback),
      })),
      transform,
    );
  }

  private observed(
    event: string,
    callback: MessageMappingProperties['callback'],
  ): MessageMappingProperties['callback'] {
    return (data: unknown, clientAck?: (response: unknown) => void) => {
      const started = process.hrtime.bigint();
      const ack = trackedAck(clientAck);
      const done = (result: string): void =>
        this.observer.observe(event, result, Number(process.hrtime.bigint() - started) / 1e9);
      return Promise.resolve(callback(data, ack)).then(
        (response: unknown) => {
          done(refusalOf(ack) ?? 'ok');
          return response;
        },
        (error: unknown) => {
          done(ErrorCode.InternalError);
          throw error;
        },
      );
    };
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const origins = this.config.corsOrigins;
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
      cors: { origin: origins === '*' ? '*' : [...origins], credentials: origins !== '*' },
    });
  }
}

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
  app.useWebSocketAdapter(new SignalgateIoAdapter(app, config, app.get(SocketEventObserver)));
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
