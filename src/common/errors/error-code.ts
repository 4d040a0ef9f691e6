/**
 * Machine codes of PROTOCOL §6, shared by the HTTP and WebSocket envelopes (plus NOT_FOUND for HTTP
 * 404s). A dependency that does not answer is INTERNAL_ERROR on the wire, with its own message.
 */
export const ErrorCode = {
  AuthRequired: 'AUTH_REQUIRED',
  AuthInvalidToken: 'AUTH_INVALID_TOKEN',
  AuthExpired: 'AUTH_EXPIRED',
  AuthRevoked: 'AUTH_REVOKED',
  AuthAgentMismatch: 'AUTH_AGENT_MISMATCH',
  AuthProfileNotFound: 'AUTH_PROFILE_NOT_FOUND',
  AuthAgentDisabled: 'AUTH_AGENT_DISABLED',
  Forbidden: 'FORBIDDEN',
  InvalidPayload: 'INVALID_PAYLOAD',
  RateLimited: 'RATE_LIMITED',
  VisitorNotFound: 'VISITOR_NOT_FOUND',
  AgentNotFound: 'AGENT_NOT_FOUND',
  OrgNotFound: 'ORG_NOT_FOUND',
  CallNotFound: 'CALL_NOT_FOUND',
  NotFound: 'NOT_FOUND',
  InternalError: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  AUTH_REQUIRED: 'Not authenticated as agent. Please login first.',
  AUTH_INVALID_TOKEN: 'The token is invalid.',
  AUTH_EXPIRED: 'The token has expired. Please login again.',
  AUTH_REVOKED: 'This session has been revoked. Please login again.',
  AUTH_AGENT_MISMATCH: 'The token does not belong to this agent.',
  AUTH_PROFILE_NOT_FOUND: 'No agent profile exists for this user.',
  AUTH_AGENT_DISABLED: 'This agent is disabled.',
  FORBIDDEN: 'You are not allowed to do this.',
  INVALID_PAYLOAD: 'The payload is invalid.',
  RATE_LIMITED: 'Too many requests. Please slow down.',
  VISITOR_NOT_FOUND: 'Visitor not found. Join first.',
  AGENT_NOT_FOUND: 'Agent not found.',
  ORG_NOT_FOUND: 'Organization not found.',
  CALL_NOT_FOUND: 'Call not found.',
  NOT_FOUND: 'Not found.',
  INTERNAL_ERROR: 'Internal server error.',
};
