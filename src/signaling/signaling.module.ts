import { Module, Provider } from '@nestjs/common';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { AuthModule } from '../auth/auth.module';
import { CallLogModule } from '../call-log/call-log.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CallGateway } from './call.gateway';
import { CallReconnects } from './calls/call-reconnects.service';
import { CallRequests } from './calls/call-requests.service';
import { LiveCalls } from './calls/live-calls.service';
import { VisitorSessions } from './calls/visitor-sessions.service';
import { CallStore } from './calls/call.store';
import { InMemoryCallStore } from './calls/in-memory-call.store';
import { RedisCallStore } from './calls/redis-call.store';
import { ClientNotifier } from './client-notifier';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store';
import { RedisPresenceStore } from './presence/redis-presence.store';
import { InstanceSockets } from './instance-sockets.service';
import { PresenceStore } from './presence/presence.store';
import { PresenceService } from './presence/presence.service';
import { RelayService } from './relay/relay.service';
import { RoutingService } from './routing/routing.service';
import { SessionRevocationGateway } from './session-revocation.gateway';
import { SignalingGateway } from './signaling.gateway';
import { SignalingMetrics } from './signaling-metrics.service';
import { SocketIoNotifier } from './socket-io.notifier';
import { InMemoryVisitorStore } from './visitors/in-memory-visitor.store';
import { RedisVisitorStore } from './visitors/redis-visitor.store';
import { VisitorService } from './visitors/visitor.service';
import { VisitorStore } from './visitors/visitor.store';

/**
 * A state port bound to its in-memory implementation (one process, the embedded default) or, when
 * REDIS_URL is set, to its Redis twin, which gives every instance of a deployment the same state.
 */
function stateStore<T>(
  port: abstract new () => T,
  inMemory: new () => T,
  redis: new (connections: RedisConnections) => T,
): Provider {
  return {
    provide: port,
    inject: [RedisConnections],
    useFactory: (connections: RedisConnections) =>
      connections.enabled ? new redis(connections) : new inMemory(),
  };
}

/**
 * The Socket.IO gateways and the call domain: presence, routing, visitors, calls and the relay,
 * over state stores (in memory, or in Redis for several instances). Every call is
 * written to the call log as it starts and ends.
 */
@Module({
  imports: [AuthModule, MetricsModule, CallLogModule],
  providers: [
    SignalingGateway,
    CallGateway,
    SessionRevocationGateway,
    PresenceService,
    RoutingService,
    VisitorService,
    CallRequests,
    LiveCalls,
    CallReconnects,
    VisitorSessions,
    RelayService,
    SignalingMetrics,
    InstanceSockets,
    SocketIoNotifier,
    { provide: ClientNotifier, useExisting: SocketIoNotifier },
    stateStore(PresenceStore, InMemoryPresenceStore, RedisPresenceStore),
    stateStore(VisitorStore, InMemoryVisitorStore, RedisVisitorStore),
    stateStore(CallStore, InMemoryCallStore, RedisCallStore),
  ],
})
export class SignalingModule {}
