import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InstanceIdentity } from '../common/instance-identity';
import { InstanceLease } from '../common/redis/instance-lease.service';
import { RedisConnections } from '../common/redis/redis-connections.service';
import { CallReconnects } from './calls/call-reconnects.service';
import { PresenceService } from './presence/presence.service';

/** Whom a socket speaks for. */
export type SocketHolder = { agentId: string } | { visitorId: string; orgId: string };

/** A socket's entry lives at most this long (a safety net; the takeover or the disconnect removes it). */
const ENTRY_TTL_MS = 48 * 3_600_000;

/**
 * The sockets this instance holds, by whom they speak for — in Redis, so that when this instance
 * dies the survivor that takes over its lease (InstanceLease) can treat each of them exactly as a
 * disconnect: an agent's presence enters the disconnect grace and its call is held; a visitor's
 * call is held, or its session ends. On one instance without Redis there is nobody to take over,
 * and nothing is recorded.
 */
@Injectable()
export class InstanceSockets implements OnModuleInit {
  private readonly logger = new Logger(InstanceSockets.name);

  constructor(
    private readonly connections: RedisConnections,
    private readonly instance: InstanceIdentity,
    private readonly lease: InstanceLease,
    private readonly presence: PresenceService,
    private readonly reconnects: CallReconnects,
  ) {}

  onModuleInit(): void {
    if (this.connections.enabled) this.lease.onDeadInstance((id) => this.takeOver(id));
  }

  async held(socketId: string, holder: SocketHolder): Promise<void> {
    if (!this.connections.enabled) return;
    const key = this.ledgerKey(this.instance.id);
    await this.connections.command
      .multi()
      .hset(key, socketId, JSON.stringify(holder))
      .pexpire(key, ENTRY_TTL_MS)
      .exec();
  }

  async released(socketId: string): Promise<void> {
    if (!this.connections.enabled) return;
    await this.connections.command.hdel(this.ledgerKey(this.instance.id), socketId);
  }

  /** Every socket of a dead instance is disconnected, as its own disconnect handler would have. */
  private async takeOver(instanceId: string): Promise<void> {
    const key = this.ledgerKey(instanceId);
    const entries = await this.connections.command.hgetall(key);
    let agents = 0;
    let visitors = 0;
    for (const [socketId, json] of Object.entries(entries)) {
      const holder = JSON.parse(json) as SocketHolder;
      if ('agentId' in holder) {
        agents += 1;
        await this.presence.socketClosed(holder.agentId, socketId);
        await this.reconnects.agentSocketLeft(holder.agentId, socketId);
      } else {
        visitors += 1;
        await this.reconnects.visitorLeft({ kind: 'visitor', ...holder, socketId });
      }
      await this.connections.command.hdel(key, socketId);
    }
    await this.connections.command.del(key);
    this.logger.warn(
      `took over instance ${instanceId}: ${agents} agent and ${visitors} visitor socket(s) treated as disconnected`,
    );
  }

  private ledgerKey(instanceId: string): string {
    return this.connections.key('instance-sockets', instanceId);
  }
}
