/** Login is keyed by IP whatever the socket already is: it is the credential-guessing surface. */
export const LOGIN_EVENT = 'agent:login';

/**
 * Events that create the identity other budgets are keyed by are themselves keyed by IP: otherwise
 * a socket could re-join under a fresh visitor id to get fresh budgets for everything else.
 */
export const IP_KEYED_EVENTS: ReadonlySet<string> = new Set([LOGIN_EVENT, 'visitor:join']);

/**
 * The socket budgets of PROTOCOL §6 as @nestjs/throttler named throttlers, one per limit. Within a
 * throttler each event still has its own bucket (the storage key names the event), so a busy
 * WebRTC exchange cannot starve call control and a login storm cannot starve anything.
 */
export const SOCKET_BUDGETS: readonly { name: string; limit: number; events: readonly string[] }[] = [
  { name: 'ws-visitor-join', limit: 10, events: ['visitor:join'] },
  { name: 'ws-call-request', limit: 5, events: ['call:request'] },
  { name: 'ws-call-control', limit: 20, events: ['call:accept', 'call:reject', 'call:cancel', 'call:end'] },
  { name: 'ws-agent-status', limit: 30, events: ['agent:status', 'agent:away', 'agent:back'] },
  { name: 'ws-webrtc-signal', limit: 600, events: ['webrtc:signal'] },
];
/** `agent:login`'s budget comes from RATE_LIMIT_LOGIN_MAX. */
export const LOGIN_THROTTLER = 'ws-login';
export const OTHER_THROTTLER = 'ws-other';
export const SOCKET_DEFAULT_LIMIT = 120;

/** Per-event limits per window (PROTOCOL §6), `agent:login` aside. */
export const SOCKET_EVENT_LIMITS: Readonly<Record<string, number>> = Object.fromEntries(
  SOCKET_BUDGETS.flatMap((budget) => budget.events.map((event) => [event, budget.limit])),
);

const THROTTLER_OF_EVENT = new Map<string, string>([
  [LOGIN_EVENT, LOGIN_THROTTLER],
  ...SOCKET_BUDGETS.flatMap((budget) => budget.events.map((event): [string, string] => [event, budget.name])),
]);

/** The named throttler that counts `event`. */
export function socketThrottlerOf(event: string): string {
  return THROTTLER_OF_EVENT.get(event) ?? OTHER_THROTTLER;
}

/** The throttler storage key of one event's budget for one tracker (agent, visitor or ip). */
export function socketThrottleKey(event: string, tracker: string): string {
  return `ws|${event}|${tracker}`;
}
