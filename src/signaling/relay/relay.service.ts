import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { LiveCalls } from '../calls/live-calls.service';
import { ClientNotifier } from '../client-notifier';
import type { Speaker, VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import type { CobrowseEvent, ServerEvents } from '../protocol';
import { RoutingService } from '../routing/routing.service';

const NOT_YOUR_PEER = 'You can only signal the other party of your current call.';
const NOT_IN_CALL = 'Co-browsing is shared only with the agent of your current call.';
const COBROWSE_OFF = 'Co-browsing is turned off for this site.';

/**
 * The relay (PROTOCOL §2 `webrtc:signal`, §2.4 co-browse): a signal goes only to the other party of
 * the sender's current call, delivered as `{targetId: <sender's id>, signal}`; on the agent's side,
 * only to the socket that carries the call, and only from it. Co-browse goes only from the
 * visitor of a call to that socket. Anything else is FORBIDDEN and nothing is delivered. What is
 * relayed is never logged, recorded or stored.
 */
@Injectable()
export class RelayService {
  constructor(
    private readonly liveCalls: LiveCalls,
    private readonly routing: RoutingService,
    private readonly notifier: ClientNotifier,
  ) {}

  async signal(party: Speaker, targetId: string, signal: Record<string, unknown>): Promise<void> {
    if (party.kind === 'agent') {
      const call = await this.liveCalls.callOfAgent(party.agentId);
      if (!call || call.visitorId !== targetId) throw this.notPeer(call ? 'not_call_peer' : 'no_active_call');
      // Another tab of the agent is not in the call: its offer would reach a visitor already
      // negotiating with the tab that accepted.
      if (!(await this.liveCalls.speaksForCall(call, party.socketId))) throw this.notPeer('not_call_socket');
      this.notifier.toVisitor(call.visitorId, 'webrtc:signal', { targetId: party.agentId, signal });
      return;
    }
    if (party.kind === 'visitor') {
      const { call } = await this.liveCalls.callOfVisitor(party);
      if (!call || call.agentId !== targetId) throw this.notPeer(call ? 'not_call_peer' : 'no_active_call');
      // While the agent reconnects nobody carries the call: the signal is lost, as on the wire.
      this.liveCalls.toCallAgent(call, 'webrtc:signal', { targetId: party.visitorId, signal });
      return;
    }
    throw this.notPeer('no_active_call');
  }

  /**
   * Co-browse from the visitor of an active call, relayed unchanged to the agent socket that carries
   * the call — only while the visitor's widget settings have co-browse on.
   */
  async cobrowse(party: VisitorSpeaker, event: CobrowseEvent, payload: object): Promise<void> {
    const { visitor, call } = await this.liveCalls.callOfVisitor(party);
    // Neither names anyone else's call (co-browse has no target): the visitor is told, and the
    // widget's events still in flight when its call ends do not each become an audit record.
    if (!call) throw new DomainError(ErrorCode.Forbidden, NOT_IN_CALL, 'no_active_call', false);
    if (!this.routing.widgetSettings(visitor).cobrowse_enabled)
      throw new DomainError(ErrorCode.Forbidden, COBROWSE_OFF, 'cobrowse_disabled', false);
    // The DTO checked the payload's shape and size; it goes on as the widget sent it.
    const relayed = [payload] as Parameters<ServerEvents[CobrowseEvent]>;
    this.liveCalls.toCallAgent(call, event, ...relayed);
  }

  private notPeer(reason: string): DomainError {
    return new DomainError(ErrorCode.Forbidden, NOT_YOUR_PEER, reason);
  }
}
