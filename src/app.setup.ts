import { BadRequestException, INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import helmet from 'helmet';
import type { ServerOptions } from 'socket.io';
import { ErrorCode } from './common/errors/error-code';
import { toFieldErrors } from './common/validation/validation-details';
import { AppConfig } from './config/app-config';

/** PROTOCOL §1: an SDP fits in 64 KiB; a flood does not. */
export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;

/** Socket.IO with the configured CORS origins and frame limit (the gateway decorator is static). */
class SignalgateIoAdapter extends IoAdapter {
  constructor(
    app: INestApplication,
    private readonly config: AppConfig,
  ) {
    super(app);
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
  app.use(helmet());
  const origins = config.corsOrigins;
  app.enableCors({ origin: origins === '*' ? '*' : [...origins], credentials: origins !== '*' });
  app.useWebSocketAdapter(new SignalgateIoAdapter(app, config));
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
