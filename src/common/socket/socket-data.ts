import type { Socket } from 'socket.io';

/** The authenticated agent session of a socket (DESIGN §3). Lives only as long as the socket. */
export interface AgentIdentity {
  userId: string;
  agentId: string;
  orgId: string;
  role: 'agent' | 'auditor' | 'admin' | 'platform_admin';
  /** Token expiry, epoch seconds. */
  exp: number;
  /** Token issue time, epoch seconds (revocations refuse iat ≤ revokedAt). */
  iat: number;
  sessionId: string;
  method: string;
}

/** A user identified by a valid handshake token; agent authority still needs `agent:login`. */
export interface HandshakeIdentity {
  userId: string;
  exp: number;
  iat: number;
  method: string;
}

export interface VisitorSession {
  visitorId: string;
  orgId: string;
}

/** Everything signalgate keeps on `socket.data`. Never a token. */
export interface SocketData {
  ip: string;
  userAgent?: string;
  handshake?: HandshakeIdentity;
  auth?: AgentIdentity;
  visitor?: VisitorSession;
}

export type AppSocket = Socket<
  Record<string, never>,
  Record<string, never>,
  Record<string, never>,
  SocketData
>;
