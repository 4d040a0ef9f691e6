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
import {
  agentSpeakerOf,
  CallParty,
  CurrentSpeaker,
  Speaker,
  VisitorSpeaker,
  visitorSpeakerOf,
} from '../auth/decorators/call-party.decorator';
import { VisitorAccess } from '../auth/decorators/visitor-access.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { AgentIdentity, SocketData } from '../common/socket/socket-data';
import { SocketEdge } from '../common/socket/socket-edge.decorator';
import { CallReconnects } from './calls/call-reconnects.service';
import { CallRequests } from './calls/call-requests.service';
import { LiveCalls } from './calls/live-calls.service';
import { VisitorSessions } from './calls/visitor-sessions.service';
import { CallHeartbeatDto } from './dto/call-heartbeat.dto';
import { CallIdDto } from './dto/call-id.dto';
import { CallReconnectDto } from './dto/call-reconnect.dto';
import { CallRejectDto } from './dto/call-reject.dto';
import { CallRequestDto } from './dto/call-request.dto';
import { CobrowseSnapshotDto } from './dto/cobrowse-snapshot.dto';
import { CobrowseUpdateDto } from './dto/cobrowse-update.dto';
import { MissedOpportunityDto } from './dto/missed-opportunity.dto';
import { NoPayloadDto } from './dto/no-payload.dto';
import { RequestIdDto } from './dto/request-id.dto';
import { VisitorInteractionDto } from './dto/visitor-interaction.dto';
import { VisitorJoinDto } from './dto/visitor-join.dto';
import { WebrtcSignalDto } from './dto/webrtc-signal.dto';
import { WidgetPageviewDto } from './dto/widget-pageview.dto';
import type { VisitorBinding } from './visitor-binder';
import { ClientEvent, CobrowseEvent, ServerEvent, SuccessAck, visitorRoom } from './protocol';
import { RelayService } from './relay/relay.service';
import { SocketDrain } from '../transport/socket-drain.service';
import { InstanceSockets } from './instance-sockets.service';
import { VisitorService, type WidgetEvent } from './visitors/visitor.service';

/**
 * The Socket.IO edge of visitors, calls and the WebRTC relay (PROTOCOL §2.1–2.2). Thin: each
 * handler declares its access, gets a validated DTO, names the sender as a domain `Speaker` and
 * hands over to a service; ownership is the services' check.
 */
@WebSocketGateway()
@SocketEdge()
export class CallGateway implements OnGatewayDisconnect {
  constructor(
    private readonly sessions: VisitorSessions,
    private readonly requests: CallRequests,
    private readonly liveCalls: LiveCalls,
    private readonly reconnects: CallReconnects,
    private readonly relay: RelayService,
    private readonly visitors: VisitorService,
    private readonly sockets: InstanceSockets,
    private readonly drain: SocketDrain,
  ) {}

  handleDisconnect(socket: Socket): Promise<void> {
    // Tracked: a graceful stop waits for it while the stores still answer.
    return this.drain.track(this.visitorGone(socket));
  }

  private async visitorGone(socket: Socket): Promise<void> {
    const visitor = visitorSpeakerOf(socket);
    if (!visitor) return;
    await this.reconnects.visitorLeft(visitor);
    // Even though the socket is gone: an event handled after it left may have joined the room.
    await visitorBinding(socket, this.sockets).unbind();
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.VisitorJoin)
  async join(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: VisitorJoinDto,
  ): Promise<SuccessAck & { visitorId?: string }> {
    const outcome = await this.sessions.join(
      visitorSpeakerOf(socket),
      body,
      socket.id,
      visitorBinding(socket, this.sockets),
    );
    if (outcome.kind === 'paused') {
      socket.emit(ServerEvent.OrgPaused, { message: outcome.message });
      return { success: false };
    }
    return { success: true, visitorId: outcome.visitorId };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.VisitorDisconnect)
  async leave(@ConnectedSocket() socket: Socket, @MessageBody() _body: NoPayloadDto): Promise<SuccessAck> {
    await this.reconnects.visitorLeft(requireVisitor(socket));
    await visitorBinding(socket, this.sockets).unbind();
    return { success: true };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CallRequest)
  async request(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CallRequestDto,
  ): Promise<SuccessAck & { requestId: string }> {
    const { requestId } = await this.requests.request(requireVisitor(socket), body.agentId);
    return { success: true, requestId };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CallCancel)
  async cancel(@ConnectedSocket() socket: Socket, @MessageBody() body: RequestIdDto): Promise<SuccessAck> {
    await this.requests.cancel(requireVisitor(socket), body.requestId);
    return { success: true };
  }

  // The socket that accepts is the one that carries the call (the agent's other tabs are told).
  @AgentAuth()
  @SubscribeMessage(ClientEvent.CallAccept)
  async accept(
    @ConnectedSocket() socket: Socket,
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() body: RequestIdDto,
  ): Promise<SuccessAck & { callId: string }> {
    const { callId } = await this.liveCalls.accept(agentSpeakerOf(agent, socket.id), body.requestId);
    return { success: true, callId };
  }

  @AgentAuth()
  @SubscribeMessage(ClientEvent.CallReject)
  async reject(
    @ConnectedSocket() socket: Socket,
    @AuthenticatedAgent() agent: AgentIdentity,
    @MessageBody() body: CallRejectDto,
  ): Promise<SuccessAck> {
    await this.requests.reject(agentSpeakerOf(agent, socket.id), body.requestId, body.reason);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallEnd)
  async end(@CurrentSpeaker() speaker: Speaker, @MessageBody() body: CallIdDto): Promise<SuccessAck> {
    await this.liveCalls.end(speaker, body.callId);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallHeartbeat)
  async callHeartbeat(
    @CurrentSpeaker() speaker: Speaker,
    @MessageBody() body: CallHeartbeatDto,
  ): Promise<SuccessAck> {
    await this.liveCalls.heartbeat(speaker, body.callId, body.reconnectToken);
    return { success: true };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.CallReconnect)
  async reconnect(
    @ConnectedSocket() socket: Socket,
    @CurrentSpeaker() speaker: Speaker,
    @MessageBody() body: CallReconnectDto,
  ): Promise<SuccessAck & { callId: string }> {
    const { callId } = await this.reconnects.reconnect(
      speaker,
      socket.id,
      body.reconnectToken,
      body.role,
      visitorBinding(socket, this.sockets),
    );
    return { success: true, callId };
  }

  @CallParty()
  @SubscribeMessage(ClientEvent.WebrtcSignal)
  async signal(
    @CurrentSpeaker() speaker: Speaker,
    @MessageBody() body: WebrtcSignalDto,
  ): Promise<SuccessAck> {
    await this.relay.signal(speaker, body.targetId, body.signal);
    return { success: true };
  }

  // ── The existing widget's other events (PROTOCOL §2.4): counted; no event in reply (an ack if asked).
  // socket.io-client sends what it buffered during a network drop before its connect handler
  // rejoins, so these may arrive on a socket with no visitor session yet: they are then dropped
  // without an error (the widget would show each one), rather than refused. ──

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.WidgetPageview)
  async pageview(
    @ConnectedSocket() socket: Socket,
    @MessageBody() _body: WidgetPageviewDto,
  ): Promise<SuccessAck> {
    await this.widgetEvent(socket, ClientEvent.WidgetPageview);
    return { success: true };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.VisitorInteraction)
  async interaction(
    @ConnectedSocket() socket: Socket,
    @MessageBody() _body: VisitorInteractionDto,
  ): Promise<SuccessAck> {
    await this.widgetEvent(socket, ClientEvent.VisitorInteraction);
    return { success: true };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.WidgetMissedOpportunity)
  async missedOpportunity(
    @ConnectedSocket() socket: Socket,
    @MessageBody() _body: MissedOpportunityDto,
  ): Promise<SuccessAck> {
    await this.widgetEvent(socket, ClientEvent.WidgetMissedOpportunity);
    return { success: true };
  }

  // ── Co-browse: from the visitor of a call to the socket that carries it; never stored. ──

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CobrowseSnapshot)
  async cobrowseSnapshot(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CobrowseSnapshotDto,
  ): Promise<SuccessAck> {
    return { success: await this.cobrowse(socket, ClientEvent.CobrowseSnapshot, body) };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CobrowseMouse)
  async cobrowseMouse(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CobrowseUpdateDto,
  ): Promise<SuccessAck> {
    return { success: await this.cobrowse(socket, ClientEvent.CobrowseMouse, body) };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CobrowseScroll)
  async cobrowseScroll(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CobrowseUpdateDto,
  ): Promise<SuccessAck> {
    return { success: await this.cobrowse(socket, ClientEvent.CobrowseScroll, body) };
  }

  @VisitorAccess()
  @SubscribeMessage(ClientEvent.CobrowseSelection)
  async cobrowseSelection(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: CobrowseUpdateDto,
  ): Promise<SuccessAck> {
    return { success: await this.cobrowse(socket, ClientEvent.CobrowseSelection, body) };
  }

  private async widgetEvent(socket: Socket, event: WidgetEvent): Promise<void> {
    const visitor = visitorSpeakerOf(socket);
    if (visitor) await this.visitors.widgetEvent(visitor, event);
  }

  /** True when relayed; a socket without a visitor session has nothing to share (see above). */
  private async cobrowse(socket: Socket, event: CobrowseEvent, payload: object): Promise<boolean> {
    const visitor = visitorSpeakerOf(socket);
    if (!visitor) return false;
    await this.relay.cobrowse(visitor, event, payload);
    return true;
  }
}

/** Widget events act for the socket's visitor session, whether or not the socket is also an agent's. */
function requireVisitor(socket: Socket): VisitorSpeaker {
  const visitor = visitorSpeakerOf(socket);
  if (!visitor) throw new DomainError(ErrorCode.VisitorNotFound);
  return visitor;
}

/**
 * A socket holds at most one visitor session and is in that session's room only; the instance's
 * ledger knows it (for a takeover should this instance die).
 */
function visitorBinding(socket: Socket, sockets: InstanceSockets): VisitorBinding {
  const data = socket.data as SocketData;
  const unbind = async (): Promise<void> => {
    if (data.visitor) {
      await socket.leave(visitorRoom(data.visitor.visitorId));
      await sockets.released(socket.id);
    }
    delete data.visitor;
  };
  return {
    unbind,
    async bind(session) {
      if (data.visitor?.visitorId !== session.visitorId) await unbind();
      data.visitor = session;
      await socket.join(visitorRoom(session.visitorId));
      await sockets.held(socket.id, { visitorId: session.visitorId, orgId: session.orgId });
    },
  };
}
