import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ClientNotifier } from './client-notifier';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store';
import { PresenceStore } from './presence/presence.store';
import { PresenceService } from './presence/presence.service';
import { SessionRevocationGateway } from './session-revocation.gateway';
import { SignalingGateway } from './signaling.gateway';
import { SocketIoNotifier } from './socket-io.notifier';

/** The Socket.IO gateway and the call domain (DESIGN §4). */
@Module({
  imports: [AuthModule],
  providers: [
    SignalingGateway,
    SessionRevocationGateway,
    PresenceService,
    SocketIoNotifier,
    { provide: ClientNotifier, useExisting: SocketIoNotifier },
    { provide: PresenceStore, useClass: InMemoryPresenceStore },
  ],
})
export class SignalingModule {}
