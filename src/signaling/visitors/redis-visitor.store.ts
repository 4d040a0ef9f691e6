import { Injectable } from '@nestjs/common';
import { RedisConnections } from '../../common/redis/redis-connections.service';
import { RedisScript } from '../../common/redis/redis-script';
import { VisitorStore } from './visitor.store';
import type {
  AgentLoad,
  AssignBestInput,
  AssignInput,
  AssignResult,
  RegisterVisitorInput,
  VisitorRecord,
} from './visitor.types';

/** Every key lives this long after its last write: the safety net when an instance vanishes. */
export const STATE_TTL_MS = 48 * 3_600_000;

const SCRIPT = new RedisScript(__dirname, 'visitors.lua', 0);

/**
 * Visitor sessions and agents' loads shared by every instance, in Redis. Each operation is one run
 * of `visitors.lua` or a single command (`get`, `count`, `poolCounts`), and a script changes a
 * record and its indexes together, so the guarantees equal InMemoryVisitorStore's — the shared
 * contract suite proves it. `assign` is one compare-and-set under the new agent's capacity, whatever
 * the number of instances racing for the visitor or the agent.
 *
 * - `visitor:<visitorId>`: the session as JSON;
 * - `visitors`: sorted set visitorId → registration rank (`count()`; the order of sessions that
 *   connected in the same millisecond);
 * - `visitors-waiting:<orgId>`: sorted set of the organisation's connected sessions without an agent
 *   by connectedAt (`waiting()`);
 * - `agent-visitors:<agentId>`: sorted set of the agent's visitors by connectedAt (`assignedTo()`;
 *   its size is the agent's load);
 * - `agent-assigned-at:<agentId>`: when a visitor was last assigned to the agent;
 * - `visitor-pools:<orgId>`: hash poolId → sessions (`poolCounts()`).
 *
 * Every key written gets a 48 h TTL, refreshed with each write to it; an index entry whose record
 * expired is skipped by reads. Single-node Redis: the script builds the keys from the prefix
 * (`REDIS_PREFIX`) rather than receiving them.
 */
@Injectable()
export class RedisVisitorStore extends VisitorStore {
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  async register(input: RegisterVisitorInput): Promise<VisitorRecord> {
    return toVisitor((await this.run('register', input)) as string);
  }

  async get(visitorId: string): Promise<VisitorRecord | null> {
    return orNull(await this.connections.command.get(this.connections.key('visitor', visitorId)));
  }

  async remove(visitorId: string, socketId: string | null): Promise<VisitorRecord | null> {
    return orNull(await this.run('remove', visitorId, socketId));
  }

  async setSocket(visitorId: string, socketId: string | null): Promise<VisitorRecord | null> {
    return orNull(await this.run('setSocket', visitorId, socketId));
  }

  async hold(visitorId: string, socketId: string): Promise<VisitorRecord | null> {
    return orNull(await this.run('hold', visitorId, socketId));
  }

  assign(input: AssignInput): Promise<AssignResult | null> {
    return this.runAssign('assign', input.agentId, input);
  }

  assignBest(input: AssignBestInput): Promise<AssignResult | null> {
    return this.runAssign('assignBest', input.candidates, input);
  }

  /** `assign` (to one agent) and `assignBest` (among candidates) take the same arguments but that one. */
  private async runAssign(
    operation: 'assign' | 'assignBest',
    choice: unknown,
    input: Omit<AssignInput, 'agentId'>,
  ): Promise<AssignResult | null> {
    const capacity = capacityArgument(input.capacity);
    const reply = await this.run(
      operation,
      input.visitorId,
      choice,
      input.expectedAgentId,
      capacity,
      input.now,
    );
    if (typeof reply !== 'string') return null;
    const result = JSON.parse(reply) as { visitor: VisitorRecord; previousAgentId: string | null };
    return { visitor: fromStored(result.visitor), previousAgentId: result.previousAgentId };
  }

  async assignedTo(agentId: string): Promise<VisitorRecord[]> {
    return all(await this.run('assignedTo', agentId));
  }

  async waiting(orgId: string): Promise<VisitorRecord[]> {
    return all(await this.run('waiting', orgId));
  }

  async loads(agentIds: readonly string[]): Promise<Record<string, AgentLoad>> {
    const reply = (await this.run('loads', agentIds)) as (number | string | null)[];
    const result: Record<string, AgentLoad> = {};
    agentIds.forEach((agentId, i) => {
      const lastAssignedAt = reply[2 * i + 1];
      result[agentId] = {
        visitors: Number(reply[2 * i]),
        lastAssignedAt: lastAssignedAt === null ? null : Number(lastAssignedAt),
      };
    });
    return result;
  }

  async touch(visitorId: string, now: number): Promise<void> {
    await this.run('touch', visitorId, now);
  }

  async poolCounts(orgId: string): Promise<Record<string, number>> {
    const counts = await this.connections.command.hgetall(this.connections.key('visitor-pools', orgId));
    return Object.fromEntries(Object.entries(counts).map(([poolId, count]) => [poolId, Number(count)]));
  }

  async count(): Promise<number> {
    return this.connections.command.zcard(this.connections.key('visitors'));
  }

  private run(operation: string, ...args: unknown[]): Promise<unknown> {
    return SCRIPT.run(
      this.connections.command,
      [],
      [this.connections.prefix, STATE_TTL_MS, operation, JSON.stringify(args)],
    );
  }
}

/** JSON has no Infinity: null stands for "no limit"; -Infinity refuses every agent, as `>=` does. */
function capacityArgument(capacity: number): number | null {
  if (Number.isFinite(capacity)) return capacity;
  return capacity === -Infinity ? 0 : null;
}

function orNull(reply: unknown): VisitorRecord | null {
  return typeof reply === 'string' ? toVisitor(reply) : null;
}

function all(reply: unknown): VisitorRecord[] {
  return (reply as string[]).map(toVisitor);
}

function toVisitor(raw: string): VisitorRecord {
  return fromStored(JSON.parse(raw) as VisitorRecord);
}

function fromStored(stored: VisitorRecord): VisitorRecord {
  return {
    visitorId: stored.visitorId,
    orgId: stored.orgId,
    poolId: stored.poolId,
    pageUrl: stored.pageUrl,
    socketId: stored.socketId,
    connectedAt: stored.connectedAt,
    lastActivityAt: stored.lastActivityAt,
    agentId: stored.agentId,
  };
}
