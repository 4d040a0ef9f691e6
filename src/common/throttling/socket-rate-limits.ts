/**
 * Per-event socket budgets of PROTOCOL §6, per window. Each event has its own budget, so a busy
 * WebRTC exchange cannot starve call control and a login storm cannot starve anything.
 */
export const SOCKET_EVENT_LIMITS: Readonly<Record<string, number>> = {
  'visitor:join': 10,
  'call:request': 5,
  'call:accept': 20,
  'call:reject': 20,
  'call:cancel': 20,
  'call:end': 20,
  'agent:status': 30,
  'agent:away': 30,
  'agent:back': 30,
  'webrtc:signal': 600,
};
export const SOCKET_DEFAULT_LIMIT = 120;
/** Login is keyed by IP whatever the socket already is: it is the credential-guessing surface. */
export const LOGIN_EVENT = 'agent:login';

/**
 * Events that create the identity other budgets are keyed by are themselves keyed by IP: otherwise
 * a socket could re-join under a fresh visitor id to get fresh budgets for everything else.
 */
export const IP_KEYED_EVENTS: ReadonlySet<string> = new Set([LOGIN_EVENT, 'visitor:join']);

/** The throttler storage key of one event's budget for one tracker (agent, visitor or ip). */
export function socketThrottleKey(event: string, tracker: string): string {
  return `ws|${event}|${tracker}`;
}

export function socketEventLimit(event: string, loginMax: number): number {
  if (event === LOGIN_EVENT) return loginMax;
  return SOCKET_EVENT_LIMITS[event] ?? SOCKET_DEFAULT_LIMIT;
}
