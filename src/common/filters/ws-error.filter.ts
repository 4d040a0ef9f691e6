import { ArgumentsHost, Catch, ExceptionFilter, Injectable, Logger } from '@nestjs/common';
import { isStateUnavailable, STATE_UNAVAILABLE_MESSAGE } from '../redis/state-unavailable';
import { WsException } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { DomainError } from '../errors/domain-error';
import { DEFAULT_MESSAGES, ErrorCode } from '../errors/error-code';
import { FieldError, WsError } from '../errors/ws-error';
import { SecurityEventBus } from '../security/security-event-bus.service';
import type { SocketData } from '../socket/socket-data';
import { recordRefusal } from '../socket/socket-event-observer';
import { socketSource } from '../socket/socket-source';

export interface WsErrorPayload {
  code: ErrorCode;
  message: string;
  event: string;
  details?: readonly FieldError[];
}

/**
 * The one place a socket refusal becomes the `error` event of PROTOCOL §6 (replacing Nest's
 * `exception` event). It never echoes the client's payload; when the client asked for an ack, the
 * ack gets `{success: false, error}` too. Unknown errors become INTERNAL_ERROR and are logged here,
 * once, with their stack.
 */
@Injectable()
@Catch()
export class WsErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(WsErrorFilter.name);

  constructor(private readonly bus: SecurityEventBus) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<Socket>();
    const event = String(ws.getPattern() ?? 'unknown');
    const payload = this.toPayload(exception, event, socket.id);
    // Guards publish their own refusals; a service's authorization refusal (ownership, paused
    // organisation…) is recorded here, where the socket that caused it is known, so services stay
    // transport-free. It may reach the client as CALL_NOT_FOUND (existence is not revealed).
    if (
      exception instanceof DomainError &&
      exception.recorded &&
      (exception.code === ErrorCode.Forbidden || exception.reason)
    ) {
      this.publishForbidden(socket, exception.code, event, exception.reason ?? 'forbidden');
    }

    socket.emit('error', payload);
    const ack = host.getArgs().find((arg): arg is (response: unknown) => void => typeof arg === 'function');
    recordRefusal(ack, payload.code);
    if (ack) ack({ success: false, error: { code: payload.code, message: payload.message } });
    // Packets leave in order, so the client receives the error before the disconnect.
    if (exception instanceof WsError && exception.disconnect) socket.disconnect(true);
  }

  private publishForbidden(socket: Socket, code: ErrorCode, event: string, reason: string): void {
    const { auth: identity, visitor } = socket.data as SocketData;
    this.bus.publish({
      type: 'auth.forbidden',
      outcome: 'failure',
      reason,
      code,
      actor: identity
        ? { userId: identity.userId, agentId: identity.agentId, role: identity.role }
        : undefined,
      orgId: identity?.orgId ?? visitor?.orgId,
      source: socketSource(socket),
      target: event,
      ...(!identity && visitor ? { details: { visitorId: visitor.visitorId } } : {}),
    });
  }

  private toPayload(exception: unknown, event: string, socketId: string): WsErrorPayload {
    if (exception instanceof WsError) {
      const payload: WsErrorPayload = { code: exception.code, message: exception.message, event };
      if (exception.details) payload.details = exception.details;
      return payload;
    }
    if (exception instanceof DomainError) return { code: exception.code, message: exception.message, event };
    if (exception instanceof WsException) {
      this.logger.warn(`untyped WsException on "${event}" (socket ${socketId}): ${exception.message}`);
      return { code: ErrorCode.Forbidden, message: DEFAULT_MESSAGES.FORBIDDEN, event };
    }
    const error = exception as Error;
    if (isStateUnavailable(error)) {
      // An outage, already reported by RedisConnections: one line per refused event, no stack.
      this.logger.warn(`"${event}" refused (socket ${socketId}): redis unavailable (${error.message})`);
      return { code: ErrorCode.InternalError, message: STATE_UNAVAILABLE_MESSAGE, event };
    }
    this.logger.error(`"${event}" failed (socket ${socketId}): ${error?.message}`, error?.stack);
    return { code: ErrorCode.InternalError, message: DEFAULT_MESSAGES.INTERNAL_ERROR, event };
  }
}
