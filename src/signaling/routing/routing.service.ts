import { Injectable } from '@nestjs/common';
import { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { Organization } from '../../auth/directory/directory.types';
import { Clock } from '../../common/clock.service';
import { ClientNotifier } from '../client-notifier';
import { isAvailable, PresenceService } from '../presence/presence.service';
import type { AgentPresence } from '../presence/presence.types';
import type { AssignmentReason, ServerEvents, WidgetSettings } from '../protocol';
import { VisitorStore } from '../visitors/visitor.store';
import type { VisitorRecord } from '../visitors/visitor.types';
import { RoutingCandidate, selectAgent } from './agent-selection';
import { poolForPage } from './page-rules';
import { widgetSettingsFor } from './widget-settings';

/** Visitors one agent greets at most (PROTOCOL §3 "capacity (default 25)"). */
export const AGENT_VISITOR_CAPACITY = 25;

/** A compare-and-set that lost a race is retried on fresh state this many times. */
const ASSIGN_ATTEMPTS = 5;

/**
 * Routing (PROTOCOL §3): page → pool by path rules, then the best available agent of the pool by
 * priority tier, load and recency — never across organisations. Assignments are compare-and-set
 * writes on the visitor store, so two routings of one visitor cannot both win.
 */
@Injectable()
export class RoutingService {
  constructor(
    private readonly presence: PresenceService,
    private readonly visitors: VisitorStore,
    private readonly directory: AgentDirectory,
    private readonly notifier: ClientNotifier,
    private readonly clock: Clock,
  ) {}

  poolFor(organization: Organization, pageUrl: string): string | null {
    return poolForPage(pageUrl, organization.pools);
  }

  /** The complete settings of a visitor's widget: its pool's over its organisation's over the defaults. */
  widgetSettings(visitor: Pick<VisitorRecord, 'orgId' | 'poolId'>): WidgetSettings {
    const organization = this.directory.getOrganization(visitor.orgId);
    const pool = organization?.pools.find((candidate) => candidate.id === visitor.poolId);
    return widgetSettingsFor(organization?.widgetSettings, pool?.widgetSettings);
  }

  /**
   * The agent a call request of `orgId` for `poolId` rings (any agent of the organisation when
   * null), skipping `exclude`: the best available by routing's order, whatever its visitor load
   * (capacity limits the visitors an agent greets, not the calls it is offered).
   */
  async chooseAgent(
    orgId: string,
    poolId: string | null,
    options: { exclude?: readonly string[] } = {},
  ): Promise<AgentPresence | null> {
    const available = availableAmong(await this.presence.agentsOf(orgId), poolId, options.exclude);
    if (available.length === 0) return null;
    const loads = await this.visitors.loads(available.map((agent) => agent.agentId));
    const candidates: RoutingCandidate[] = available.map((agent) => ({
      agentId: agent.agentId,
      rank: this.rankOf(agent.agentId, poolId),
      visitors: loads[agent.agentId]?.visitors ?? 0,
      lastAssignedAt: loads[agent.agentId]?.lastAssignedAt ?? null,
    }));
    const chosen = selectAgent(candidates, Infinity);
    return available.find((agent) => agent.agentId === chosen?.agentId) ?? null;
  }

  /**
   * Gives the visitor the best agent of its pool other than `exclude`, or leaves it waiting, and
   * tells it when that changed (always when `announce`, as on joining): `agent:assigned` (it had
   * no agent), `agent:reassigned` (it had one) or `agent:unavailable`.
   */
  async route(
    visitorId: string,
    options: { reason?: AssignmentReason; exclude?: readonly string[]; announce?: boolean } = {},
  ): Promise<void> {
    for (let attempt = 0; attempt < ASSIGN_ATTEMPTS; attempt++) {
      const visitor = await this.visitors.get(visitorId);
      if (!visitor || visitor.socketId === null) return;
      const agents = await this.presence.agentsOf(visitor.orgId);
      if (await this.assignAmong(visitor, agents, options)) return;
    }
  }

  /**
   * A visitor that just joined (`visitor` as registered, `agents` its organisation's presence read
   * alongside): routed and announced as `route` does, and every agent of its pool told the pool's
   * new figure — with the state already in hand, and the independent reads side by side, since
   * each read is a round trip when the state is shared. A lost compare-and-set routes afresh.
   */
  async arrived(visitor: VisitorRecord, agents: readonly AgentPresence[]): Promise<void> {
    const [assigned, counts] = await Promise.all([
      this.assignAmong(visitor, agents, { announce: true }),
      visitor.poolId === null ? null : this.visitors.poolCounts(visitor.orgId),
    ]);
    if (!assigned) await this.route(visitor.visitorId, { announce: true });
    if (counts && visitor.poolId !== null) this.tellPoolVisitors(agents, visitor.poolId, counts);
  }

  /**
   * One assignment from this view of the visitor and its organisation's presence: the store
   * chooses among the available agents by their loads as they are at that moment, and writes it
   * in the same step (compare-and-set on the visitor's agent); false when it lost a race.
   */
  private async assignAmong(
    visitor: VisitorRecord,
    agents: readonly AgentPresence[],
    options: { reason?: AssignmentReason; exclude?: readonly string[]; announce?: boolean },
  ): Promise<boolean> {
    const available = availableAmong(agents, visitor.poolId, options.exclude);
    const result = await this.visitors.assignBest({
      visitorId: visitor.visitorId,
      candidates: available.map((agent) => ({
        agentId: agent.agentId,
        rank: this.rankOf(agent.agentId, visitor.poolId),
      })),
      expectedAgentId: visitor.agentId,
      capacity: AGENT_VISITOR_CAPACITY,
      now: this.clock.now(),
    });
    if (!result) return false;
    const agent = available.find((candidate) => candidate.agentId === result.visitor.agentId) ?? null;
    if (options.announce || result.previousAgentId !== result.visitor.agentId)
      this.tellVisitor(result.visitor, result.previousAgentId, agent, options.reason);
    return true;
  }

  /** An agent left or went away: each of its visitors gets another agent or waits. */
  async reassignVisitorsOf(agentId: string, reason: AssignmentReason): Promise<void> {
    for (const visitor of await this.visitors.assignedTo(agentId)) {
      if (visitor.socketId !== null) await this.route(visitor.visitorId, { reason, exclude: [agentId] });
    }
  }

  /** An agent became available: waiting visitors it could greet are routed again. */
  async pickUpWaiting(agent: AgentPresence): Promise<void> {
    for (const visitor of await this.visitors.waiting(agent.orgId)) {
      if (servesPool(agent, visitor.poolId)) await this.route(visitor.visitorId);
    }
  }

  /** A visitor of this agent left: the agent has room again for any visitor left waiting. */
  async released(agentId: string): Promise<void> {
    const agent = await this.presence.get(agentId);
    if (agent && isAvailable(agent)) await this.pickUpWaiting(agent);
  }

  /**
   * The `stats:update` figure of an agent (PROTOCOL §2.3), which the dashboard shows as "visitors on
   * your sites now": every visitor currently matched to one of its pools, whoever greets them.
   */
  async poolVisitors(agentId: string): Promise<number> {
    const agent = await this.presence.get(agentId);
    return agent ? countFor(agent, await this.visitors.poolCounts(agent.orgId)) : 0;
  }

  /** A visitor came or went on `poolId`: each connected agent of that pool is told its new figure. */
  async poolVisitorsChanged(orgId: string, poolId: string | null): Promise<void> {
    // A visitor matched to no pool is in nobody's figure.
    if (poolId === null) return;
    const [counts, agents] = await Promise.all([
      this.visitors.poolCounts(orgId),
      this.presence.agentsOf(orgId),
    ]);
    this.tellPoolVisitors(agents, poolId, counts);
  }

  /** `stats:update` to the agents of `poolId`: one message per distinct figure, not per agent. */
  private tellPoolVisitors(
    agents: readonly AgentPresence[],
    poolId: string,
    counts: Readonly<Record<string, number>>,
  ): void {
    const byFigure = new Map<number, AgentPresence[]>();
    for (const agent of agents) {
      if (!agent.pools.includes(poolId)) continue;
      const figure = countFor(agent, counts);
      byFigure.set(figure, [...(byFigure.get(figure) ?? []), agent]);
    }
    for (const [poolVisitors, sameFigure] of byFigure)
      this.notifier.toAgents(sameFigure, 'stats:update', { poolVisitors });
  }

  /** Told to the socket the assignment's reply names: the session's own, as of that write. */
  private tellVisitor(
    visitor: VisitorRecord,
    previousAgentId: string | null,
    agent: AgentPresence | null,
    reason: AssignmentReason | undefined,
  ): void {
    if (agent && previousAgentId && previousAgentId !== agent.agentId) {
      this.tellSession(visitor, 'agent:reassigned', {
        previousAgentId,
        newAgent: agent.profile,
        reason: reason ?? 'agent_away',
        widgetSettings: this.widgetSettings(visitor),
      });
    } else if (agent) {
      this.tellSession(visitor, 'agent:assigned', {
        agent: agent.profile,
        visitorId: visitor.visitorId,
        widgetSettings: this.widgetSettings(visitor),
        visitorConnectedAt: visitor.connectedAt,
      });
    } else {
      const previous = previousAgentId ? this.directory.findByAgentId(previousAgentId) : undefined;
      this.tellSession(visitor, 'agent:unavailable', {
        visitorId: visitor.visitorId,
        widgetSettings: this.widgetSettings(visitor),
        poolId: visitor.poolId,
        ...(previous ? { previousAgentName: previous.displayName } : {}),
        reason: reason ?? 'no_agent_available',
      });
    }
  }

  /** To the socket that holds the session (its room while none does). */
  private tellSession<E extends keyof ServerEvents>(
    visitor: VisitorRecord,
    event: E,
    ...args: Parameters<ServerEvents[E]>
  ): void {
    if (visitor.socketId === null) this.notifier.toVisitor(visitor.visitorId, event, ...args);
    else this.notifier.toSocket(visitor.socketId, event, ...args);
  }

  /** The agent's `priorityRank` in the pool; its best rank when the visitor has no pool. */
  private rankOf(agentId: string, poolId: string | null): number {
    const memberships = this.directory.findByAgentId(agentId)?.pools ?? [];
    const ranks = memberships
      .filter((membership) => poolId === null || membership.poolId === poolId)
      .map((membership) => membership.priorityRank);
    return ranks.length > 0 ? Math.min(...ranks) : Number.MAX_SAFE_INTEGER;
  }
}

function countFor(agent: AgentPresence, counts: Readonly<Record<string, number>>): number {
  return agent.pools.reduce((sum, poolId) => sum + (counts[poolId] ?? 0), 0);
}

/** The agents that may take a visitor of `poolId` now, but those of `exclude`. */
function availableAmong(
  agents: readonly AgentPresence[],
  poolId: string | null,
  exclude: readonly string[] = [],
): AgentPresence[] {
  return agents.filter(
    (agent) => isAvailable(agent) && !exclude.includes(agent.agentId) && servesPool(agent, poolId),
  );
}

/** A visitor without a pool may be greeted by any agent of its organisation (PROTOCOL §3 "Pools"). */
export function servesPool(agent: AgentPresence, poolId: string | null): boolean {
  return poolId === null || agent.pools.includes(poolId);
}
