/**
 * `agent:login`'s failures are counted by LoginFailureBudget (per IP and per claimed agent), and
 * its successes by neither. Its budget here is per socket and counts every attempt: a ceiling on
 * how often one connection can have credentials checked (and recorded), which never touches the
 * other connections behind a shared address.
 */
export const LOGIN_EVENT = 'agent:login';

/** Events counted per socket rather than per agent, visitor or IP. */
export const SOCKET_KEYED_EVENTS: ReadonlySet<string> = new Set([LOGIN_EVENT]);

/**
 * Events that create the identity other budgets are keyed by are themselves keyed by IP: otherwise
 * a socket could re-join under a fresh visitor id to get fresh budgets for everything else.
 */
export const IP_KEYED_EVENTS: ReadonlySet<string> = new Set(['visitor:join']);

/**
 * The socket budgets of PROTOCOL §6 as @nestjs/throttler named throttlers, one per limit. Within a
 * throttler each event still has its own bucket (the storage key names the event), so a busy
 * WebRTC exchange cannot starve call control, and a co-browsing page cannot starve its call.
 */
export const SOCKET_BUDGETS: readonly { name: string; limit: number; events: readonly string[] }[] = [
  { name: 'ws-login', limit: 30, events: [LOGIN_EVENT] },
  { name: 'ws-visitor-join', limit: 10, events: ['visitor:join'] },
  { name: 'ws-call-request', limit: 5, events: ['call:request'] },
  { name: 'ws-call-control', limit: 20, events: ['call:accept', 'call:reject', 'call:cancel', 'call:end'] },
  { name: 'ws-agent-status', limit: 30, events: ['agent:status', 'agent:away', 'agent:back'] },
  { name: 'ws-webrtc-signal', limit: 600, events: ['webrtc:signal'] },
  { name: 'ws-cobrowse-snapshot', limit: 60, events: ['cobrowse:snapshot'] },
  { name: 'ws-cobrowse-mouse', limit: 1_500, events: ['cobrowse:mouse'] },
  { name: 'ws-cobrowse-view', limit: 300, events: ['cobrowse:scroll', 'cobrowse:selection'] },
  { name: 'ws-visitor-interaction', limit: 300, events: ['visitor:interaction'] },
];
export const OTHER_THROTTLER = 'ws-other';
export const SOCKET_DEFAULT_LIMIT = 120;

/** Per-event limits per window (PROTOCOL §6). */
export const SOCKET_EVENT_LIMITS: Readonly<Record<string, number>> = Object.fromEntries(
  SOCKET_BUDGETS.flatMap((budget) => budget.events.map((event) => [event, budget.limit])),
);

const THROTTLER_OF_EVENT = new Map<string, string>(
  SOCKET_BUDGETS.flatMap((budget) => budget.events.map((event): [string, string] => [event, budget.name])),
);

/** The named throttler that counts `event`. */
export function socketThrottlerOf(event: string): string {
  return THROTTLER_OF_EVENT.get(event) ?? OTHER_THROTTLER;
}

/** The throttler storage key of one event's budget for one tracker (agent, visitor or ip). */
export function socketThrottleKey(event: string, tracker: string): string {
  return `ws|${event}|${tracker}`;
}
