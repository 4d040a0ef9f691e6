import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { AgentIdentity, SocketData } from '../../common/socket/socket-data';

/** The agent identity `@AgentAuth()` established for this socket. */
export const AuthenticatedAgent = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AgentIdentity =>
    (context.switchToWs().getClient<Socket>().data as SocketData).auth!,
);
