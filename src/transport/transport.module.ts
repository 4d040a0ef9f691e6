import { Global, Module } from '@nestjs/common';
import { SocketDrain } from './socket-drain.service';

/**
 * The Socket.IO transport's own providers. The adapter itself (SignalgateIoAdapter, with the Redis
 * adapter under it when REDIS_URL is set) is installed by `configureApp`, outside the module graph.
 */
@Global()
@Module({ providers: [SocketDrain], exports: [SocketDrain] })
export class TransportModule {}
