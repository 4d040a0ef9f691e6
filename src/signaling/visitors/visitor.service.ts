import { Injectable, Logger } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { Organization } from '../../auth/directory/directory.types';
import { Clock } from '../../common/clock.service';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { VisitorSpeaker } from '../../auth/decorators/call-party.decorator';
import type { ClientEvent } from '../protocol';
import { PresenceService } from '../presence/presence.service';
import { RoutingService } from '../routing/routing.service';
import { SignalingMetrics } from '../signaling-metrics.service';
import { VisitorStore } from './visitor.store';
import type { VisitorRecord } from './visitor.types';

const PAUSED_MESSAGE = 'This organization is not taking calls right now.';

/** Visitor sessions (PROTOCOL §2.2 `visitor:join`): registration, identity and routing on arrival. */
@Injectable()
export class VisitorService {
  private readonly logger = new Logger(VisitorService.name);

  constructor(
    private readonly visitors: VisitorStore,
    private readonly routing: RoutingService,
    private readonly presence: PresenceService,
    private readonly directory: AgentDirectory,
    private readonly clock: Clock,
    private readonly metrics: SignalingMetrics,
  ) {}

  /** The organisation a visitor may join (ORG_NOT_FOUND before anything changes), or why not. */
  admit(orgId: string): { kind: 'open'; organization: Organization } | { kind: 'paused'; message: string } {
    const organization = this.directory.getOrganization(orgId);
    if (!organization) throw new DomainError(ErrorCode.OrgNotFound);
    if (organization.status === 'paused') return { kind: 'paused', message: PAUSED_MESSAGE };
    return { kind: 'open', organization };
  }

  /**
   * Registers the visitor and routes it. A client-chosen `visitorId` is honoured only when no live
   * session holds it (**fix**: no taking over another visitor's session); otherwise a new id is
   * issued. `bind` attaches the session to the socket.
   */
  async register(
    organization: Organization,
    input: { pageUrl: string; visitorId?: string },
    socketId: string,
    bind: (session: { visitorId: string; orgId: string }) => Promise<void>,
  ): Promise<VisitorRecord> {
    // The organisation's presence is read alongside: routing needs it, and it does not depend on
    // the registration (a round trip saved when the state is shared).
    const [visitor, agents] = await Promise.all([
      this.visitors.register({
        preferredId: input.visitorId,
        freshId: `visitor_${uuidv7()}`,
        orgId: organization.id,
        poolId: this.routing.poolFor(organization, input.pageUrl),
        pageUrl: input.pageUrl,
        socketId,
        now: this.clock.now(),
      }),
      this.presence.agentsOf(organization.id),
    ]);
    if (input.visitorId !== undefined && visitor.visitorId !== input.visitorId)
      this.logger.log(`visitor id ${input.visitorId} is held by a live session; issued ${visitor.visitorId}`);
    // Binding joins the socket to the session's room at once; its ledger write (Redis) need not
    // finish before routing starts, since routing tells the visitor at its socket, not its room.
    await Promise.all([
      bind({ visitorId: visitor.visitorId, orgId: visitor.orgId }),
      this.routing.arrived(visitor, agents),
    ]);
    return visitor;
  }

  /**
   * The existing widget's analytics events (PROTOCOL §2.4), from the socket's live session: counted
   * by organisation; an interaction is also a sign of life from the visitor's page. From a session
   * that moved to another socket they are leftovers, and are dropped.
   */
  async widgetEvent(party: VisitorSpeaker, event: WidgetEvent): Promise<void> {
    const visitor = await this.visitors.get(party.visitorId);
    if (!visitor || visitor.socketId !== party.socketId) return;
    if (event === 'visitor:interaction') await this.visitors.touch(visitor.visitorId, this.clock.now());
    this.metrics.widgetEvent(visitor.orgId, event);
  }

  /** The live session of this socket, or VISITOR_NOT_FOUND (never joined, left, or moved away). */
  async requireLive(party: VisitorSpeaker): Promise<VisitorRecord> {
    const visitor = await this.visitors.get(party.visitorId);
    if (!visitor || visitor.socketId !== party.socketId) throw new DomainError(ErrorCode.VisitorNotFound);
    return visitor;
  }

  get(visitorId: string): Promise<VisitorRecord | null> {
    return this.visitors.get(visitorId);
  }

  /** Holds the session without a socket while its call waits for a reconnect. */
  async hold(visitorId: string, socketId: string): Promise<boolean> {
    return (await this.visitors.hold(visitorId, socketId)) !== null;
  }

  /** Moves the session to the socket that reconnected. */
  async resume(visitorId: string, socketId: string): Promise<void> {
    await this.visitors.setSocket(visitorId, socketId);
  }

  /**
   * Ends the session held by `socketId` (null: a held session). Its agent's load drops, which may
   * make room for a visitor waiting because every agent was at capacity.
   */
  async remove(visitorId: string, socketId: string | null): Promise<VisitorRecord | null> {
    const removed = await this.visitors.remove(visitorId, socketId);
    if (!removed) return null;
    await this.routing.poolVisitorsChanged(removed.orgId, removed.poolId);
    if (removed.agentId) await this.routing.released(removed.agentId);
    return removed;
  }
}

export type WidgetEvent = Extract<
  ClientEvent,
  'widget:pageview' | 'visitor:interaction' | 'widget:missed_opportunity'
>;
