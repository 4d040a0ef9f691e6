import { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { ServerOptions } from 'socket.io';
import { ErrorCode } from './common/errors/error-code';
import { refusalOf, SocketEventObserver, trackedAck } from './common/socket/socket-event-observer';
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
