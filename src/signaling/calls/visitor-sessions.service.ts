import { Injectable } from '@nestjs/common';
import type { VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import type { VisitorBinding } from '../visitor-binder';
import { VisitorService } from '../visitors/visitor.service';
import { CallReconnects } from './call-reconnects.service';
import { CallStore } from './call.store';

export type JoinOutcome = { kind: 'joined'; visitorId: string } | { kind: 'paused'; message: string };

/** A socket's visitor session as it begins (PROTOCOL §2.2 `visitor:join`); it ends in CallReconnects.visitorLeft. */
@Injectable()
export class VisitorSessions {
  constructor(
    private readonly calls: CallStore,
    private readonly visitors: VisitorService,
    private readonly reconnects: CallReconnects,
  ) {}

  /**
   * `visitor:join`. An unknown organisation is refused before anything changes; a paused one is
   * reported. A socket holds one session: joining again (another page) ends the previous session
   * first — unless it is in a call, which a page change must not disturb: then nothing changes.
   */
  async join(
    previous: VisitorSpeaker | null,
    input: { orgId: string; pageUrl: string; visitorId?: string },
    socketId: string,
    binding: VisitorBinding,
  ): Promise<JoinOutcome> {
    const admission = this.visitors.admit(input.orgId);
    if (admission.kind === 'paused') return admission;
    if (previous) {
      if (await this.calls.callOfVisitor(previous.visitorId))
        return { kind: 'joined', visitorId: previous.visitorId };
      await this.reconnects.visitorLeft(previous);
      await binding.unbind();
    }
    const visitor = await this.visitors.register(admission.organization, input, socketId, (session) =>
      binding.bind(session),
    );
    return { kind: 'joined', visitorId: visitor.visitorId };
  }
}
