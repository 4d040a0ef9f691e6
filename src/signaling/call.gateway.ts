import {
  ConnectedSocket,
  MessageBody,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { AgentAuth } from '../auth/decorators/agent-auth.decorator';
import { AuthenticatedAgent } from '../auth/decorators/authenticated-agent.decorator';
import { CallParty } from '../auth/decorators/call-party.decorator';
import { VisitorAccess } from '../auth/decorators/visitor-access.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { AgentIdentity, SocketData } from '../common/socket/socket-data';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { CallService } from './calls/call.service';
import { CallHeartbeatDto } from './dto/call-heartbeat.dto';
import { CallIdDto } from './dto/call-id.dto';
import { CallReconnectDto } from './dto/call-reconnect.dto';
import { CallRejectDto } from './dto/call-reject.dto';
import { CallRequestDto } from './dto/call-request.dto';
import { NoPayloadDto } from './dto/no-payload.dto';
import { RequestIdDto } from './dto/request-id.dto';
import { VisitorJoinDto } from './dto/visitor-join.dto';
import { WebrtcSignalDto } from './dto/webrtc-signal.dto';
import type { Party, VisitorBinder, VisitorParty } from './party';
import { ClientEvent, ServerEvent, SuccessAck, visitorRoom } from './protocol';
import { RelayService } from './relay/relay.service';
import { VisitorService } from './visitors/visitor.service';

/**
 * The Socket.IO edge of visitors, calls and the WebRTC relay (PROTOCOL §2.1–2.2). Thin: each
 * handler declares its access, gets a validated DTO, names the sender as a domain `Party` and
 * hands over to a service; ownership is the services' check.
 */
@WebSocketGateway()
@SocketEdge()
export class CallGateway implements OnGatewayDisconnect {
  constructor(
    private readonly visitors: VisitorService,
    private readonly calls: CallService,
    private readonly relay: RelayService,
  ) {}

  async handleDisconnect(socket: Socket): Promise<void> {
    const party = visitorPartyOf(socket);
    if (party) await this.calls.visitorLeft(party);
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.VisitorJoin)
  async join(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: VisitorJoinDto,
  ): Promise<SuccessAck & { visitorId?: string }> {
    // One visitor session per socket: joining again (another page) leaves the previous one first.
    const previous = visitorPartyOf(socket);
    if (previous) {
      await this.calls.visitorLeft(previous);
      await unbindVisitor(socket);
    }
    const outcome = await this.visitors.join(body, socket.id, bindVisitor(socket));
    if (outcome.kind === 'paused') {
      socket.emit(ServerEvent.OrgPaused, { message: outcome.message });
      return { success: false };
    }
    return { success: true, visitorId: outcome.visitor.visitorId };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.VisitorDisconnect)
  async leave(@ConnectedSocket() socket: Socket, @MessageBody() _body: NoPayloadDto): Promise<SuccessAck> {
    await this.calls.visitorLeft(requireVisitor(socket));
    await unbindVisitor(socket);
    return { success: true };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CallRequest)
  async request(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CallRequestDto,
  ): Promise<SuccessAck & { requestId: string }> {
    const { requestId } = await this.calls.request(requireVisitor(socket), body.agentId);
    return { success: true, requestId };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CallCancel)
  async cancel(@ConnectedSocket() socket: Socket, @MessageBody() body: RequestIdDto): Promise<SuccessAck> {
    await this.calls.cancel(requireVisitor(socket), body.requestId);
    return { success: true };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.CallAccept)
  async accept(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() body: RequestIdDto,
  ): Promise<SuccessAck & { callId: string }> {
    const { callId } = await this.calls.accept(agentParty(agent), body.requestId);
    return { success: true, callId };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.CallReject)
  async reject(
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() body: CallRejectDto,
  ): Promise<SuccessAck> {
    await this.calls.reject(agentParty(agent), body.requestId, body.reason);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallEnd)
  async end(@ConnectedSocket() socket: Socket, @MessageBody() body: CallIdDto): Promise<SuccessAck> {
    await this.calls.end(partyOf(socket), body.callId);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallHeartbeat)
  async callHeartbeat(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CallHeartbeatDto,
  ): Promise<SuccessAck> {
    await this.calls.heartbeat(partyOf(socket), body.callId, body.reconnectToken);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallReconnect)
  async reconnect(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CallReconnectDto,
  ): Promise<SuccessAck & { callId: string }> {
    const { callId } = await this.calls.reconnect(
      partyOf(socket),
      socket.id,
      body.reconnectToken,
      body.role,
      bindVisitor(socket),
    );
    return { success: true, callId };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.WebrtcSignal)
  async signal(@ConnectedSocket() socket: Socket, @MessageBody() body: WebrtcSignalDto): Promise<SuccessAck> {
    await this.relay.signal(partyOf(socket), body.targetId, body.signal);
    return { success: true };
  }
}

function agentParty(identity: AgentIdentity): Extract<Party, { kind: 'agent' }> {
  return { kind: 'agent', agentId: identity.agentId, orgId: identity.orgId };
}

/** The sender as CallPartyGuard resolved it: the logged-in agent, else the socket's visitor. */
function partyOf(socket: Socket): Party {
  const data = socket.data as SocketData;
  if (data.auth) return agentParty(data.auth);
  return visitorPartyOf(socket) ?? { kind: 'anonymous' };
}

function visitorPartyOf(socket: Socket): VisitorParty | null {
  const visitor = (socket.data as SocketData).visitor;
  return visitor
    ? { kind: 'visitor', visitorId: visitor.visitorId, orgId: visitor.orgId, socketId: socket.id }
    : null;
}

function requireVisitor(socket: Socket): VisitorParty {
  const party = visitorPartyOf(socket);
  if (!party) throw new DomainError(ErrorCode.VisitorNotFound);
  return party;
}

function bindVisitor(socket: Socket): VisitorBinder {
  return async (session) => {
    (socket.data as SocketData).visitor = session;
    await socket.join(visitorRoom(session.visitorId));
  };
}

async function unbindVisitor(socket: Socket): Promise<void> {
  const data = socket.data as SocketData;
  if (data.visitor) await socket.leave(visitorRoom(data.visitor.visitorId));
  delete data.visitor;
}
