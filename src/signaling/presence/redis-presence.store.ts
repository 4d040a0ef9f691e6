import { Injectable } from '@nestjs/common';
import { RedisConnections } from '../../common/redis/redis-connections.service';
import { RedisScript } from '../../common/redis/redis-script';
import type { AgentStatus } from '../protocol';
import { PresenceStore } from './presence.store';
import type { AgentPresence, AttachInput, AttachResult } from './presence.types';

/** Every key lives this long after its last write: the safety net when an instance vanishes. */
export const STATE_TTL_MS = 48 * 3_600_000;

const SCRIPT = new RedisScript(__dirname, 'presence.lua', 0);

/** What the script returns: cjson writes an empty array as `{}`. */
interface StoredPresence extends Omit<AgentPresence, 'socketIds' | 'pools'> {
  socketIds: string[] | Record<string, never>;
  pools: string[] | Record<string, never>;
}

/**
 * Presence shared by every instance, in Redis. Each operation is one run of `presence.lua` (reads
 * included, so a list is one consistent snapshot; `get` is a single GET), which changes a record and
 * its indexes together, so the guarantees equal InMemoryPresenceStore's — the shared contract suite
 * proves it:
 *
 * - `presence:<agentId>`: the presence as JSON;
 * - `presences`: sorted set agentId → creation rank (`list()` order, that of the in-memory Map:
 *   a presence replaced after its grace keeps its place);
 * - `presence-org:<orgId>`: sorted set agentId → rank within the organisation (`inOrg()`);
 * - `presence-idle`: sorted set agentId → lastActivityAt of idle connected presences, the
 *   candidates of `markStale`, which is one script over it.
 *
 * Every key written gets a 48 h TTL, refreshed with each write to it; an index entry whose record
 * expired is skipped by reads and dropped by `markStale`. Single-node Redis: the script builds the
 * keys from the prefix (`REDIS_PREFIX`) rather than receiving them.
 */
@Injectable()
export class RedisPresenceStore extends PresenceStore {
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  async attach(input: AttachInput): Promise<AttachResult> {
    const [raw, resumed] = (await this.run('attach', input)) as [string, number];
    return { presence: toPresence(raw), resumed: resumed === 1 };
  }

  async detach(agentId: string, socketId: string, now: number): Promise<AgentPresence | null> {
    return orNull(await this.run('detach', agentId, socketId, now));
  }

  async expireIfDisconnectedSince(agentId: string, disconnectedAt: number): Promise<AgentPresence | null> {
    return orNull(await this.run('expireIfDisconnectedSince', agentId, disconnectedAt));
  }

  async remove(agentId: string): Promise<AgentPresence | null> {
    return orNull(await this.run('remove', agentId));
  }

  async setStatus(
    agentId: string,
    status: AgentStatus,
    now: number,
    unlessIn: readonly AgentStatus[] = [],
  ): Promise<AgentPresence | null> {
    return orNull(await this.run('setStatus', agentId, status, now, unlessIn));
  }

  async enterCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null> {
    return orNull(await this.run('enterCall', agentId, visitorId, now));
  }

  async resumeCall(agentId: string, visitorId: string, now: number): Promise<AgentPresence | null> {
    return orNull(await this.run('resumeCall', agentId, visitorId, now));
  }

  async leaveCall(agentId: string, now: number): Promise<AgentPresence | null> {
    return orNull(await this.run('leaveCall', agentId, now));
  }

  async touch(agentId: string, now: number): Promise<void> {
    await this.run('touch', agentId, now);
  }

  async get(agentId: string): Promise<AgentPresence | null> {
    return orNull(await this.connections.command.get(this.connections.key('presence', agentId)));
  }

  async list(): Promise<AgentPresence[]> {
    return all(await this.run('list'));
  }

  async inOrg(orgId: string): Promise<AgentPresence[]> {
    return all(await this.run('inOrg', orgId));
  }

  async markStale(cutoff: number, now: number): Promise<AgentPresence[]> {
    return all(await this.run('markStale', cutoff, now));
  }

  private run(operation: string, ...args: unknown[]): Promise<unknown> {
    return SCRIPT.run(
      this.connections.command,
      [],
      [this.connections.prefix, STATE_TTL_MS, operation, JSON.stringify(args)],
    );
  }
}

function orNull(reply: unknown): AgentPresence | null {
  return typeof reply === 'string' ? toPresence(reply) : null;
}

function all(reply: unknown): AgentPresence[] {
  return (reply as string[]).map(toPresence);
}

function toPresence(raw: string): AgentPresence {
  const stored = JSON.parse(raw) as StoredPresence;
  return {
    agentId: stored.agentId,
    userId: stored.userId,
    orgId: stored.orgId,
    profile: stored.profile,
    pools: asArray(stored.pools),
    status: stored.status,
    socketIds: asArray(stored.socketIds),
    currentCallVisitorId: stored.currentCallVisitorId,
    connectedAt: stored.connectedAt,
    lastActivityAt: stored.lastActivityAt,
    disconnectedAt: stored.disconnectedAt,
  };
}

function asArray(value: string[] | Record<string, never>): string[] {
  return Array.isArray(value) ? value : [];
}
