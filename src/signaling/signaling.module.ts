import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CallLogModule } from '../call-log/call-log.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CallGateway } from './call.gateway';
import { CallService } from './calls/call.service';
import { CallStore } from './calls/call.store';
import { InMemoryCallStore } from './calls/in-memory-call.store';
import { ClientNotifier } from './client-notifier';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store';
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
import { VisitorService } from './visitors/visitor.service';
import { VisitorStore } from './visitors/visitor.store';

/**
 * The Socket.IO gateways and the call domain: presence, routing, visitors, calls and the relay,
 * over state stores (in memory here; the same ports take a shared implementation). Every call is
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
    CallService,
    RelayService,
    SignalingMetrics,
    InstanceSockets,
    SocketIoNotifier,
    { provide: ClientNotifier, useExisting: SocketIoNotifier },
    { provide: PresenceStore, useClass: InMemoryPresenceStore },
    { provide: VisitorStore, useClass: InMemoryVisitorStore },
    { provide: CallStore, useClass: InMemoryCallStore },
  ],
})
export class SignalingModule {}
