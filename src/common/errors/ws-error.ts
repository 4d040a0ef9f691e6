import { WsException } from '@nestjs/websockets';
import { DEFAULT_MESSAGES, ErrorCode } from './error-code';

export interface FieldError {
  field: string;
  message: string;
}

/** A refusal on a socket event with a stable code; the WS filter turns it into the `error` event. */
export class WsError extends WsException {
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    readonly details?: readonly FieldError[],
    /** Disconnect the socket after answering (failed logins, PROTOCOL §2.1). */
    readonly disconnect = false,
  ) {
    super(message);
  }
}
