import { Injectable } from '@nestjs/common';
import { selectAgent } from '../routing/agent-selection';
import { VisitorStore } from './visitor.store';
import type {
  AgentLoad,
  AssignBestInput,
  AssignInput,
  AssignResult,
  RegisterVisitorInput,
  VisitorRecord,
} from './visitor.types';

/** Single-process visitor sessions; each method completes without awaiting, hence atomically. */
@Injectable()
export class InMemoryVisitorStore extends VisitorStore {
  private readonly visitors = new Map<string, VisitorRecord>();
  private readonly agentLoads = new Map<string, AgentLoad>();
  /** orgId → poolId → sessions, kept with every register and remove (read on every join). */
  private readonly pools = new Map<string, Map<string, number>>();

  register(input: RegisterVisitorInput): Promise<VisitorRecord> {
    const preferredFree = input.preferredId !== undefined && !this.visitors.has(input.preferredId);
    const visitor: VisitorRecord = {
      visitorId: preferredFree ? input.preferredId! : input.freshId,
      orgId: input.orgId,
      poolId: input.poolId,
      pageUrl: input.pageUrl,
      socketId: input.socketId,
      connectedAt: input.now,
      lastActivityAt: input.now,
      agentId: null,
    };
    this.visitors.set(visitor.visitorId, visitor);
    this.countPool(visitor, +1);
    return Promise.resolve({ ...visitor });
  }

  get(visitorId: string): Promise<VisitorRecord | null> {
    return resolved(this.visitors.get(visitorId));
  }

  remove(visitorId: string, socketId: string | null): Promise<VisitorRecord | null> {
    const visitor = this.visitors.get(visitorId);
    if (!visitor || visitor.socketId !== socketId) return resolved(undefined);
    this.visitors.delete(visitorId);
    this.countPool(visitor, -1);
    if (visitor.agentId) this.adjust(visitor.agentId, -1);
    return resolved(visitor);
  }

  setSocket(visitorId: string, socketId: string | null): Promise<VisitorRecord | null> {
    const visitor = this.visitors.get(visitorId);
    if (visitor) visitor.socketId = socketId;
    return resolved(visitor);
  }

  hold(visitorId: string, socketId: string): Promise<VisitorRecord | null> {
    const visitor = this.visitors.get(visitorId);
    if (!visitor || visitor.socketId !== socketId) return resolved(undefined);
    visitor.socketId = null;
    return resolved(visitor);
  }

  assign(input: AssignInput): Promise<AssignResult | null> {
    const visitor = this.visitors.get(input.visitorId);
    if (!visitor || visitor.agentId !== input.expectedAgentId) return Promise.resolve(null);
    if (input.agentId === visitor.agentId) {
      return Promise.resolve({ visitor: { ...visitor }, previousAgentId: visitor.agentId });
    }
    if (input.agentId && this.load(input.agentId).visitors >= input.capacity) return Promise.resolve(null);
    const previousAgentId = visitor.agentId;
    if (previousAgentId) this.adjust(previousAgentId, -1);
    if (input.agentId) {
      this.adjust(input.agentId, +1);
      this.load(input.agentId).lastAssignedAt = input.now;
    }
    visitor.agentId = input.agentId;
    return Promise.resolve({ visitor: { ...visitor }, previousAgentId });
  }

  assignBest(input: AssignBestInput): Promise<AssignResult | null> {
    const candidates = input.candidates.map((candidate) => ({
      ...candidate,
      ...this.load(candidate.agentId),
    }));
    const chosen = selectAgent(candidates, input.capacity);
    return this.assign({ ...input, agentId: chosen?.agentId ?? null });
  }

  assignedTo(agentId: string): Promise<VisitorRecord[]> {
    return this.filter((visitor) => visitor.agentId === agentId);
  }

  waiting(orgId: string): Promise<VisitorRecord[]> {
    return this.filter(
      (visitor) => visitor.orgId === orgId && visitor.agentId === null && visitor.socketId !== null,
    );
  }

  loads(agentIds: readonly string[]): Promise<Record<string, AgentLoad>> {
    const result: Record<string, AgentLoad> = {};
    for (const agentId of agentIds) result[agentId] = { ...this.load(agentId) };
    return Promise.resolve(result);
  }

  touch(visitorId: string, now: number): Promise<void> {
    const visitor = this.visitors.get(visitorId);
    if (visitor) visitor.lastActivityAt = now;
    return Promise.resolve();
  }

  poolCounts(orgId: string): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(this.pools.get(orgId) ?? []));
  }

  count(): Promise<number> {
    return Promise.resolve(this.visitors.size);
  }

  private filter(predicate: (visitor: VisitorRecord) => boolean): Promise<VisitorRecord[]> {
    const matches = [...this.visitors.values()].filter(predicate).map((visitor) => ({ ...visitor }));
    return Promise.resolve(matches.sort((a, b) => a.connectedAt - b.connectedAt));
  }

  private countPool(visitor: VisitorRecord, delta: number): void {
    if (visitor.poolId === null) return;
    let pools = this.pools.get(visitor.orgId);
    if (!pools) this.pools.set(visitor.orgId, (pools = new Map()));
    const count = (pools.get(visitor.poolId) ?? 0) + delta;
    if (count > 0) pools.set(visitor.poolId, count);
    else pools.delete(visitor.poolId);
  }

  private load(agentId: string): AgentLoad {
    let load = this.agentLoads.get(agentId);
    if (!load) this.agentLoads.set(agentId, (load = { visitors: 0, lastAssignedAt: null }));
    return load;
  }

  private adjust(agentId: string, delta: number): number {
    const load = this.load(agentId);
    load.visitors = Math.max(0, load.visitors + delta);
    return load.visitors;
  }
}

function resolved(visitor: VisitorRecord | undefined): Promise<VisitorRecord | null> {
  return Promise.resolve(visitor ? { ...visitor } : null);
}
