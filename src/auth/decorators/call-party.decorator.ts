import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DeclareAccess } from '../../common/access/access-kind';
import type { SocketData } from '../../common/socket/socket-data';
import { CallPartyGuard } from '../guards/call-party.guard';

/** An event both call parties send (`call:end`, `call:heartbeat`, `call:reconnect`, `webrtc:signal`). */
export const CallParty = (): MethodDecorator =>
  applyDecorators(DeclareAccess('call-party'), UseGuards(CallPartyGuard));

export type Speaker =
  | { kind: 'agent'; agentId: string; orgId: string; userId: string }
  | { kind: 'visitor'; visitorId: string; orgId: string }
  | { kind: 'anonymous' };

/** Who sent this event, as resolved by CallPartyGuard's rules. */
export function speakerOf(socket: Socket): Speaker {
  const data = socket.data as SocketData;
  if (data.auth)
    return { kind: 'agent', agentId: data.auth.agentId, orgId: data.auth.orgId, userId: data.auth.userId };
  if (data.visitor) return { kind: 'visitor', visitorId: data.visitor.visitorId, orgId: data.visitor.orgId };
  return { kind: 'anonymous' };
}

export const CurrentSpeaker = createParamDecorator((_data: unknown, context: ExecutionContext): Speaker =>
  speakerOf(context.switchToWs().getClient<Socket>()),
);
