import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { AdminAgentsController } from './admin-agents.controller';
import { AgentAuthService } from './agent-auth.service';
import { AuthController } from './auth.controller';
import { CredentialVerifier } from './credential-verifier.service';
import { AgentDirectory } from './directory/agent-directory.service';
import { DirectoryStore } from './directory/directory.store';
import { KyselyDirectoryStore } from './directory/kysely-directory.store';
import { revocationFeedFor } from './directory/redis-revocation-feed';
import { RevocationFeed } from './directory/revocation-feed';
import { AdminAuthGuard } from './guards/admin-auth.guard';
import { CallPartyGuard } from './guards/call-party.guard';
import { WsAgentAuthGuard } from './guards/ws-agent-auth.guard';
import { HandshakeAuthenticator } from './handshake-authenticator.service';
import { SessionRevocationService } from './session-revocation.service';
import { RedeemedTickets } from './tickets/redeemed-tickets';
import { redeemedTicketsFor } from './tickets/redis-redeemed-tickets';
import { TicketService } from './tickets/ticket.service';
import { TokenVerifier } from './token/token-verifier.service';

/** Identity: token verification, the agent directory, access guards and tickets (DESIGN §3). */
@Module({
  imports: [JwtModule.register({})],
  controllers: [AuthController, AdminAgentsController],
  providers: [
    { provide: DirectoryStore, useClass: KyselyDirectoryStore },
    // Shared through Redis when REDIS_URL is set, else this process's own.
    { provide: RevocationFeed, inject: [RedisConnections], useFactory: revocationFeedFor },
    { provide: RedeemedTickets, inject: [RedisConnections], useFactory: redeemedTicketsFor },
    AgentDirectory,
    TokenVerifier,
    TicketService,
    CredentialVerifier,
    AgentAuthService,
    HandshakeAuthenticator,
    WsAgentAuthGuard,
    CallPartyGuard,
    AdminAuthGuard,
    SessionRevocationService,
  ],
  exports: [
    AgentAuthService,
    AgentDirectory,
    HandshakeAuthenticator,
    WsAgentAuthGuard,
    CallPartyGuard,
    AdminAuthGuard,
    SessionRevocationService,
  ],
})
export class AuthModule {}
