import { DEFAULT_MESSAGES, ErrorCode } from './error-code';

/**
 * A refusal decided by a service. Services speak in domain terms and never throw transport
 * exceptions; the HTTP and WS filters map the code to a status or an `error` event.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
