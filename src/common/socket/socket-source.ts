import type { Socket } from 'socket.io';
import type { SecuritySource } from '../security/security-event';
import type { SocketData } from './socket-data';

/** Where a socket event came from, for security events. */
export function socketSource(socket: Socket): SecuritySource {
  const data = socket.data as Partial<SocketData>;
  return { transport: 'ws', ip: data.ip, userAgent: data.userAgent, socketId: socket.id };
}
