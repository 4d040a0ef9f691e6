/**
 * The wire contract of PROTOCOL.md as types: event names and payloads shared by the gateway, the
 * tests, `npm run demo` and any dashboard or widget author
 * (`import type { ClientEvents, ServerEvents } from 'signalgate/src/signaling/protocol'`).
 * Nothing here depends on Socket.IO; the maps plug into `Socket<ServerEvents, ClientEvents>`.
 */
import type { ErrorCode } from '../common/errors/error-code';

/** Client → server event names (PROTOCOL §2.1, §2.2). */
export const ClientEvent = {
  AgentLogin: 'agent:login',
  AgentLogout: 'agent:logout',
  AgentStatus: 'agent:status',
  AgentAway: 'agent:away',
  AgentBack: 'agent:back',
  Heartbeat: 'heartbeat',
  VisitorJoin: 'visitor:join',
  VisitorDisconnect: 'visitor:disconnect',
  CallRequest: 'call:request',
  CallAccept: 'call:accept',
  CallReject: 'call:reject',
  CallCancel: 'call:cancel',
  CallEnd: 'call:end',
  CallHeartbeat: 'call:heartbeat',
  CallReconnect: 'call:reconnect',
  WebrtcSignal: 'webrtc:signal',
  WidgetPageview: 'widget:pageview',
  VisitorInteraction: 'visitor:interaction',
  WidgetMissedOpportunity: 'widget:missed_opportunity',
  CobrowseSnapshot: 'cobrowse:snapshot',
  CobrowseMouse: 'cobrowse:mouse',
  CobrowseScroll: 'cobrowse:scroll',
  CobrowseSelection: 'cobrowse:selection',
} as const;
export type ClientEvent = (typeof ClientEvent)[keyof typeof ClientEvent];

/** Server → client event names (PROTOCOL §2.3). */
export const ServerEvent = {
  LoginSuccess: 'login:success',
  StatsUpdate: 'stats:update',
  CallIncoming: 'call:incoming',
  CallCancelled: 'call:cancelled',
  CallStarted: 'call:started',
  CallRnaTimeout: 'call:rna_timeout',
  AgentMarkedAway: 'agent:marked_away',
  AgentAssigned: 'agent:assigned',
  AgentReassigned: 'agent:reassigned',
  AgentUnavailable: 'agent:unavailable',
  OrgPaused: 'org:paused',
  CallAccepted: 'call:accepted',
  CallRejected: 'call:rejected',
  CallEnded: 'call:ended',
  CallReconnecting: 'call:reconnecting',
  CallReconnected: 'call:reconnected',
  CallReconnectFailed: 'call:reconnect_failed',
  WebrtcSignal: 'webrtc:signal',
  SessionRevoked: 'session:revoked',
  Error: 'error',
} as const;
export type ServerEvent = (typeof ServerEvent)[keyof typeof ServerEvent];

/** Statuses an agent may choose; `in_call`/`in_simulation` are server-owned. */
export type SelectableStatus = 'idle' | 'away' | 'offline';
export type AgentStatus = SelectableStatus | 'in_call' | 'in_simulation';

/** What a visitor sees of an agent: always the directory's profile, never the dashboard's. */
export interface AgentProfile {
  id: string;
  displayName: string;
  avatarUrl: string | null;
  waveVideoUrl: string | null;
  introVideoUrl: string | null;
  connectVideoUrl: string | null;
  loopVideoUrl: string | null;
}

export interface AgentState {
  agentId: string;
  socketId: string;
  profile: AgentProfile & { userId: string; status: AgentStatus };
  status: AgentStatus;
  currentCallVisitorId: string | null;
  connectedAt: number;
  lastActivityAt: number;
  pools: string[];
}

/**
 * The widget's settings, always complete, with exactly the (snake_case) keys the existing widget
 * reads: the visitor's pool's values over its organisation's over the built-in defaults.
 */
export interface WidgetSettings {
  size: 'small' | 'medium' | 'large';
  position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left' | 'center';
  devices: 'all' | 'desktop' | 'mobile';
  /** Seconds before the widget shows itself. */
  trigger_delay: number;
  /** Seconds before it hides again; null: never. */
  auto_hide_delay: number | null;
  show_minimize_button: boolean;
  theme: 'light' | 'dark' | 'liquid-glass';
  /** Whether the widget shares the visitor's page with the agent during a call. */
  cobrowse_enabled: boolean;
}

export interface CallRequestView {
  requestId: string;
  visitorId: string;
  agentId: string;
  orgId: string;
  pageUrl: string;
  requestedAt: number;
}

/** Where a visitor is, as a geolocation source would say; signalgate has none yet, so always null. */
export interface VisitorLocation {
  city: string | null;
  region: string | null;
  country: string | null;
  countryCode: string | null;
}

export interface VisitorView {
  visitorId: string;
  pageUrl: string;
  connectedAt: number;
  /** Always present (the dashboard shows "Unknown" for null). */
  location: VisitorLocation | null;
}

export interface CallView {
  callId: string;
  /** The call's row in the call log (`GET /admin/calls`): the dashboard's post-call form uses it. */
  callLogId: string;
  visitorId: string;
  agentId: string;
  startedAt: number;
  endedAt: number | null;
}

/** Every reason a call ends with (`call:ended.reason`), in one list the metrics and the call log use. */
export const CALL_END_REASONS = [
  'agent_ended',
  'visitor_ended',
  'timeout',
  'error',
  'reconnect_failed',
  'max_duration',
] as const;
export type CallEndReason = (typeof CALL_END_REASONS)[number];

/** Why a visitor's agent changed or why none is available (`agent:reassigned`, `agent:unavailable`). */
export type AssignmentReason =
  'no_agent_available' | 'agent_away' | 'agent_offline' | 'agent_busy' | 'ring_no_answer';

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  /** The event that failed; absent when nothing the client sent failed (session expiry). */
  event?: string;
  details?: { field: string; message: string }[];
}

export interface StatusAck {
  success: boolean;
  status?: AgentStatus;
  error?: { code: ErrorCode; message: string };
}

/** The ack of events that answer with nothing but success (or the error of PROTOCOL §6). */
export interface SuccessAck {
  success: boolean;
  error?: { code: ErrorCode; message: string };
}

export type Ack<T> = (response: T) => void;

/** Client → server payloads (PROTOCOL §2.1 dashboard, §2.2 widget). An ack is always optional. */
export interface ClientEvents {
  'agent:login': (payload: { agentId: string; token?: string; profile?: Record<string, unknown> }) => void;
  'agent:logout': (ack?: Ack<SuccessAck>) => void;
  'agent:status': (payload: { status: SelectableStatus }, ack?: Ack<StatusAck>) => void;
  'agent:away': (payload: { reason: 'idle' | 'manual' }, ack?: Ack<StatusAck>) => void;
  'agent:back': (ack?: Ack<StatusAck>) => void;
  heartbeat: (payload: { timestamp: number }) => void;
  'visitor:join': (
    payload: { orgId: string; pageUrl: string; visitorId?: string },
    ack?: Ack<SuccessAck & { visitorId?: string }>,
  ) => void;
  'visitor:disconnect': (ack?: Ack<SuccessAck>) => void;
  'call:request': (payload: { agentId: string }, ack?: Ack<SuccessAck & { requestId?: string }>) => void;
  'call:accept': (payload: { requestId: string }, ack?: Ack<SuccessAck & { callId?: string }>) => void;
  'call:reject': (payload: { requestId: string; reason?: string }, ack?: Ack<SuccessAck>) => void;
  'call:cancel': (payload: { requestId: string }, ack?: Ack<SuccessAck>) => void;
  'call:end': (payload: { callId: string }, ack?: Ack<SuccessAck>) => void;
  'call:heartbeat': (payload: { callId: string; reconnectToken: string }, ack?: Ack<SuccessAck>) => void;
  'call:reconnect': (
    payload: { reconnectToken: string; role: 'agent' | 'visitor' },
    ack?: Ack<SuccessAck & { callId?: string }>,
  ) => void;
  'webrtc:signal': (
    payload: { targetId: string; signal: Record<string, unknown> },
    ack?: Ack<SuccessAck>,
  ) => void;
  'widget:pageview': (payload: { agentId: string }, ack?: Ack<SuccessAck>) => void;
  'visitor:interaction': (
    payload: { interactionType: string; timestamp: number },
    ack?: Ack<SuccessAck>,
  ) => void;
  'widget:missed_opportunity': (
    payload: { triggerDelaySeconds: number; poolId: string | null },
    ack?: Ack<SuccessAck>,
  ) => void;
  'cobrowse:snapshot': (payload: CobrowseSnapshot, ack?: Ack<SuccessAck>) => void;
  'cobrowse:mouse': (payload: Record<string, unknown>, ack?: Ack<SuccessAck>) => void;
  'cobrowse:scroll': (payload: Record<string, unknown>, ack?: Ack<SuccessAck>) => void;
  'cobrowse:selection': (payload: Record<string, unknown>, ack?: Ack<SuccessAck>) => void;
}

/** The visitor's page as the widget serialises it for the agent (relayed unchanged, never stored). */
export interface CobrowseSnapshot {
  html: string;
  url: string;
  title: string;
  viewport: { width: number; height: number };
  timestamp: number;
}

/** Co-browse events, relayed from the visitor of a call to that call's agent socket. */
export type CobrowseEvent = Extract<
  ClientEvent,
  'cobrowse:snapshot' | 'cobrowse:mouse' | 'cobrowse:scroll' | 'cobrowse:selection'
>;

/** Server → client payloads (PROTOCOL §2.3). */
export interface ServerEvents {
  'login:success': (payload: { agentState: AgentState }) => void;
  'stats:update': (payload: { poolVisitors: number }) => void;
  'call:incoming': (payload: { request: CallRequestView; visitor: VisitorView }) => void;
  /** `reason` only when another tab of the agent accepted the call. */
  'call:cancelled': (payload: { requestId: string; reason?: 'answered_elsewhere' }) => void;
  'call:started': (payload: { call: CallView; visitor: VisitorView; reconnectToken: string }) => void;
  'call:rna_timeout': (payload: { requestId: string; visitorId: string; reason: 'ring_no_answer' }) => void;
  'agent:marked_away': (payload: { reason: 'idle' | 'ring_no_answer'; message: string }) => void;
  'agent:assigned': (payload: {
    agent: AgentProfile;
    visitorId: string;
    widgetSettings: WidgetSettings;
    visitorConnectedAt: number;
  }) => void;
  'agent:reassigned': (payload: {
    previousAgentId: string;
    newAgent: AgentProfile;
    reason: AssignmentReason;
    widgetSettings: WidgetSettings;
  }) => void;
  'agent:unavailable': (payload: {
    visitorId: string;
    widgetSettings: WidgetSettings;
    poolId: string | null;
    previousAgentName?: string;
    reason?: AssignmentReason;
  }) => void;
  'org:paused': (payload: { message: string }) => void;
  'call:accepted': (payload: { callId: string; agentId: string; reconnectToken: string }) => void;
  'call:rejected': (payload: { requestId: string; reason?: string }) => void;
  'call:ended': (payload: { callId: string; reason: CallEndReason; message?: string }) => void;
  'call:reconnecting': (payload: { callId: string; message: string; timeoutSeconds: number }) => void;
  'call:reconnected': (payload: {
    callId: string;
    reconnectToken: string;
    peerId: string;
    agent?: AgentProfile;
  }) => void;
  'call:reconnect_failed': (payload: { callId: string; reason: string; message: string }) => void;
  'webrtc:signal': (payload: { targetId: string; signal: Record<string, unknown> }) => void;
  'session:revoked': (payload: { message: string }) => void;
  'cobrowse:snapshot': (payload: CobrowseSnapshot) => void;
  'cobrowse:mouse': (payload: Record<string, unknown>) => void;
  'cobrowse:scroll': (payload: Record<string, unknown>) => void;
  'cobrowse:selection': (payload: Record<string, unknown>) => void;
  error: (payload: ErrorPayload) => void;
}

/** Rooms through which every socket of an agent, a visitor or an organisation is addressed. */
export const agentRoom = (agentId: string): string => `agent:${agentId}`;
export const visitorRoom = (visitorId: string): string => `visitor:${visitorId}`;
export const orgRoom = (orgId: string): string => `org:${orgId}`;
