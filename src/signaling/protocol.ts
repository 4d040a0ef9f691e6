/**
 * The wire contract of PROTOCOL.md as types: event names and payloads shared by the gateway, the
 * tests and any dashboard author (`import { ClientEvent, ServerEvents } from 'signalgate/protocol'`).
 */
import type { ErrorCode } from '../common/errors/error-code';

export const ClientEvent = {
  AgentLogin: 'agent:login',
  AgentLogout: 'agent:logout',
  AgentStatus: 'agent:status',
  AgentAway: 'agent:away',
  AgentBack: 'agent:back',
  Heartbeat: 'heartbeat',
} as const;
export type ClientEvent = (typeof ClientEvent)[keyof typeof ClientEvent];

export const ServerEvent = {
  LoginSuccess: 'login:success',
  StatsUpdate: 'stats:update',
  AgentMarkedAway: 'agent:marked_away',
  SessionRevoked: 'session:revoked',
  Error: 'error',
} as const;

/** Statuses an agent may choose; `in_call`/`in_simulation` are server-owned. */
export type SelectableStatus = 'idle' | 'away' | 'offline';
export type AgentStatus = SelectableStatus | 'in_call' | 'in_simulation';

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

/** Client → server payloads (PROTOCOL §2.1). */
export interface ClientEvents {
  'agent:login': (payload: { agentId: string; token?: string; profile?: Record<string, unknown> }) => void;
  'agent:logout': (ack?: (response: { success: boolean }) => void) => void;
  'agent:status': (payload: { status: SelectableStatus }, ack?: (response: StatusAck) => void) => void;
  'agent:away': (payload: { reason: 'idle' | 'manual' }, ack?: (response: StatusAck) => void) => void;
  'agent:back': (ack?: (response: StatusAck) => void) => void;
  heartbeat: (payload: { timestamp: number }) => void;
}

/** Server → client payloads (PROTOCOL §2.3). */
export interface ServerEvents {
  'login:success': (payload: { agentState: AgentState }) => void;
  'stats:update': (payload: { poolVisitors: number }) => void;
  'agent:marked_away': (payload: { reason: 'idle' | 'ring_no_answer'; message: string }) => void;
  'session:revoked': (payload: { message: string }) => void;
  error: (payload: ErrorPayload) => void;
}

/** Rooms through which every socket of an agent, or of an organisation, is addressed. */
export const agentRoom = (agentId: string): string => `agent:${agentId}`;
export const orgRoom = (orgId: string): string => `org:${orgId}`;
