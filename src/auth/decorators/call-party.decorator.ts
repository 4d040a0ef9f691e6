import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DeclareAccess } from '../../common/access/access-kind';
import type { AgentIdentity, SocketData } from '../../common/socket/socket-data';
import { CallPartyGuard } from '../guards/call-party.guard';

/** An event both call parties send (`call:end`, `call:heartbeat`, `call:reconnect`, `webrtc:signal`). */
export const CallParty = (): MethodDecorator =>
  applyDecorators(DeclareAccess('call-party'), UseGuards(CallPartyGuard));

/**
 * Who sent an event, in terms the domain services use (they never see the socket): a logged-in
 * agent, the visitor session the socket holds, or nobody. A visitor is named with its socket
 * because a session moves to a new socket on reconnect, and the old socket must lose it.
 */
export type Speaker =
  | { kind: 'agent'; agentId: string; orgId: string; userId: string; socketId: string }
  | { kind: 'visitor'; visitorId: string; orgId: string; socketId: string }
  | { kind: 'anonymous' };
export type AgentSpeaker = Extract<Speaker, { kind: 'agent' }>;
export type VisitorSpeaker = Extract<Speaker, { kind: 'visitor' }>;

/** Who sent this event, as resolved by CallPartyGuard's rules: the agent first, else the visitor. */
export function speakerOf(socket: Socket): Speaker {
  const data = socket.data as SocketData;
  if (data.auth) return agentSpeakerOf(data.auth, socket.id);
  return visitorSpeakerOf(socket) ?? { kind: 'anonymous' };
}

/** The agent a logged-in socket speaks for. */
export function agentSpeakerOf(identity: AgentIdentity, socketId: string): AgentSpeaker {
  return {
    kind: 'agent',
    agentId: identity.agentId,
    orgId: identity.orgId,
    userId: identity.userId,
    socketId,
  };
}

/** The visitor session this socket holds, whether or not it is also logged in as an agent. */
export function visitorSpeakerOf(socket: Socket): VisitorSpeaker | null {
  const visitor = (socket.data as SocketData).visitor;
  return visitor
    ? { kind: 'visitor', visitorId: visitor.visitorId, orgId: visitor.orgId, socketId: socket.id }
    : null;
}

export const CurrentSpeaker = createParamDecorator((_data: unknown, context: ExecutionContext): Speaker =>
  speakerOf(context.switchToWs().getClient<Socket>()),
);
