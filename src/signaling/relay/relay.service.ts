import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { CallService } from '../calls/call.service';
import { ClientNotifier } from '../client-notifier';
import type { Speaker } from '../../auth/decorators/call-party.decorator';

const NOT_YOUR_PEER = 'You can only signal the other party of your current call.';

/**
 * WebRTC relay (PROTOCOL §2 `webrtc:signal`): a signal goes only to the other party of the
 * sender's current call, delivered as `{targetId: <sender's id>, signal}`. Any other target is
 * FORBIDDEN and nothing is delivered. The signal itself is never logged or recorded.
 */
@Injectable()
export class RelayService {
  constructor(
    private readonly calls: CallService,
    private readonly notifier: ClientNotifier,
  ) {}

  async signal(party: Speaker, targetId: string, signal: Record<string, unknown>): Promise<void> {
    if (party.kind === 'agent') {
      const call = await this.calls.callOfAgent(party.agentId);
      if (!call || call.visitorId !== targetId) throw this.notPeer(call ? 'not_call_peer' : 'no_active_call');
      this.notifier.toVisitor(call.visitorId, 'webrtc:signal', { targetId: party.agentId, signal });
      return;
    }
    if (party.kind === 'visitor') {
      const call = await this.calls.callOfVisitor(party);
      if (!call || call.agentId !== targetId) throw this.notPeer(call ? 'not_call_peer' : 'no_active_call');
      this.notifier.toAgent(call.agentId, 'webrtc:signal', { targetId: party.visitorId, signal });
      return;
    }
    throw this.notPeer('no_active_call');
  }

  private notPeer(reason: string): DomainError {
    return new DomainError(ErrorCode.Forbidden, NOT_YOUR_PEER, reason);
  }
}
