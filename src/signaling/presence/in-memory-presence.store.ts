import { Injectable } from '@nestjs/common';
import type { AgentStatus } from '../protocol';
import { PresenceStore } from './presence.store';
import type { AgentPresence, AttachInput, AttachResult } from './presence.types';

/**
 * Single-process presence. Each method runs to completion without awaiting, which is what makes
 * it atomic on Node's event loop; copies are returned so callers never mutate the state.
 */
@Injectable()
export class InMemoryPresenceStore extends PresenceStore {
  private readonly agents = new Map<string, AgentPresence>();
  /** orgId → its agents' ids, in creation order; kept with every creation and deletion. */
  private readonly orgs = new Map<string, Set<string>>();

  attach(input: AttachInput): Promise<AttachResult> {
    const existing = this.agents.get(input.agentId);
    if (existing && existing.disconnectedAt === null) {
      if (!existing.socketIds.includes(input.socketId)) existing.socketIds.push(input.socketId);
      existing.lastActivityAt = input.now;
      existing.profile = input.profile;
      existing.pools = input.pools;
      return this.result(existing, false);
    }
    if (existing && existing.disconnectedAt !== null && existing.disconnectedAt >= input.resumeSince) {
      existing.socketIds = [input.socketId];
      existing.disconnectedAt = null;
      existing.lastActivityAt = input.now;
      existing.profile = input.profile;
      existing.pools = input.pools;
      // `in_call` is kept: PresenceService asks the call store whether the call survived.
      return this.result(existing, true);
    }
    const presence: AgentPresence = {
      agentId: input.agentId,
      userId: input.userId,
      orgId: input.orgId,
      profile: input.profile,
      pools: input.pools,
      status: 'away',
      socketIds: [input.socketId],
      currentCallVisitorId: null,
      connectedAt: input.now,
      lastActivityAt: input.now,
      disconnectedAt: null,
    };
    // A presence replaced after its grace keeps its place, in the Map as in its organisation's index.
    if (existing && existing.orgId !== presence.orgId) this.unindex(existing);
    this.agents.set(input.agentId, presence);
    this.index(presence);
    return this.result(presence, false);
  }

  detach(agentId: string, socketId: string, now: number): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence) return Promise.resolve(null);
    presence.socketIds = presence.socketIds.filter((id) => id !== socketId);
    if (presence.socketIds.length === 0 && presence.disconnectedAt === null) presence.disconnectedAt = now;
    return Promise.resolve(copy(presence));
  }

  expireIfDisconnectedSince(agentId: string, disconnectedAt: number): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence || presence.disconnectedAt !== disconnectedAt) return Promise.resolve(null);
    this.agents.delete(agentId);
    this.unindex(presence);
    return Promise.resolve(copy(presence));
  }

  remove(agentId: string): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence) return Promise.resolve(null);
    this.agents.delete(agentId);
    this.unindex(presence);
    return Promise.resolve(copy(presence));
  }

  setStatus(
    agentId: string,
    status: AgentStatus,
    now: number,
    unlessIn: readonly AgentStatus[] = [],
  ): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence) return Promise.resolve(null);
    if (!unlessIn.includes(presence.status)) presence.status = status;
    presence.lastActivityAt = now;
    return Promise.resolve(copy(presence));
  }

  enterCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence || presence.status !== 'idle') return Promise.resolve(null);
    presence.status = 'in_call';
    presence.currentCallVisitorId = visitorId;
    presence.lastActivityAt = now;
    return Promise.resolve(copy(presence));
  }

  resumeCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    const inAnotherCall = presence?.status === 'in_call' && presence.currentCallVisitorId !== visitorId;
    if (!presence || inAnotherCall) return Promise.resolve(null);
    presence.status = 'in_call';
    presence.currentCallVisitorId = visitorId;
    presence.lastActivityAt = now;
    return Promise.resolve(copy(presence));
  }

  leaveCall(agentId: string, now: number): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    if (!presence || presence.status !== 'in_call') return Promise.resolve(null);
    presence.status = 'idle';
    presence.currentCallVisitorId = null;
    presence.lastActivityAt = now;
    return Promise.resolve(copy(presence));
  }

  touch(agentId: string, now: number): Promise<void> {
    const presence = this.agents.get(agentId);
    if (presence) presence.lastActivityAt = now;
    return Promise.resolve();
  }

  get(agentId: string): Promise<AgentPresence | null> {
    const presence = this.agents.get(agentId);
    return Promise.resolve(presence ? copy(presence) : null);
  }

  list(): Promise<AgentPresence[]> {
    return Promise.resolve([...this.agents.values()].map(copy));
  }

  inOrg(orgId: string): Promise<AgentPresence[]> {
    const agentIds = [...(this.orgs.get(orgId) ?? [])];
    return Promise.resolve(agentIds.map((agentId) => copy(this.agents.get(agentId)!)));
  }

  markStale(cutoff: number, now: number): Promise<AgentPresence[]> {
    const marked: AgentPresence[] = [];
    for (const presence of this.agents.values()) {
      if (
        presence.status === 'idle' &&
        presence.disconnectedAt === null &&
        presence.lastActivityAt < cutoff
      ) {
        presence.status = 'away';
        presence.lastActivityAt = now;
        marked.push(copy(presence));
      }
    }
    return Promise.resolve(marked);
  }

  private index(presence: AgentPresence): void {
    let agentIds = this.orgs.get(presence.orgId);
    if (!agentIds) this.orgs.set(presence.orgId, (agentIds = new Set()));
    agentIds.add(presence.agentId);
  }

  private unindex(presence: AgentPresence): void {
    const agentIds = this.orgs.get(presence.orgId);
    agentIds?.delete(presence.agentId);
    if (agentIds?.size === 0) this.orgs.delete(presence.orgId);
  }

  private result(presence: AgentPresence, resumed: boolean): Promise<AttachResult> {
    return Promise.resolve({ presence: copy(presence), resumed });
  }
}

function copy(presence: AgentPresence): AgentPresence {
  // structuredClone: a caller that changes what it got (a profile, a list) never changes the store.
  return structuredClone(presence);
}
