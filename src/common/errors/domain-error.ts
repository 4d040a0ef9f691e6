import { DEFAULT_MESSAGES, ErrorCode } from './error-code';

/**
 * A refusal decided by a service. Services speak in domain terms and never throw transport
 * exceptions; the HTTP and WS filters map the code to a status or an `error` event.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    /** snake_case reason for the security record when the refusal is an authorization decision. */
    readonly reason?: string,
    /**
     * False for a refusal about the state of things rather than about who asks (co-browsing
     * outside a call names no one else's call): the client is told, nothing is recorded.
     */
    readonly recorded = true,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
