import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { InstanceIdentity } from '../instance-identity';
import { RedisConnections } from './redis-connections.service';
import { RedisScript } from './redis-script';

const HEARTBEAT = new RedisScript(__dirname, 'instance-heartbeat.lua', 2);
const CLAIM_DEAD = new RedisScript(__dirname, 'instance-claim-dead.lua', 1);

/** What a survivor does for an instance that died (its sockets are gone with it). */
export type DeadInstanceHandler = (instanceId: string) => Promise<void>;

/**
 * This instance's lease in the deployment (Redis only): a heartbeat key that expires after
 * INSTANCE_HEARTBEAT_TTL_MS unless renewed (every third of it), and an entry in the set of known
 * instances with its last beat. Every instance looks for dead ones twice per TTL; the one whose
 * script removes a dead instance from the set — exactly one — runs the takeover handlers for it. An
 * instance that has just (re)connected to Redis judges nobody for one TTL, so that an outage, which
 * stops every heartbeat at once, kills no live instance. A graceful
 * stop (`leave`) removes the lease itself, after the instance's own sockets were closed, so nobody
 * takes over what it already handed back.
 */
@Injectable()
export class InstanceLease implements OnApplicationBootstrap {
  private readonly logger = new Logger(InstanceLease.name);
  private readonly handlers: DeadInstanceHandler[] = [];
  private timers: NodeJS.Timeout[] = [];
  private checking = false;
  /** No takeover before this time: after this instance (re)connects, the others get a TTL to beat. */
  private checkNotBefore = 0;

  constructor(
    private readonly connections: RedisConnections,
    private readonly instance: InstanceIdentity,
    private readonly config: AppConfig,
  ) {}

  /** Registers what to do for a dead instance; handlers run in order, each awaited. */
  onDeadInstance(handler: DeadInstanceHandler): void {
    this.handlers.push(handler);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.connections.enabled) return;
    const ttl = this.config.instanceHeartbeatTtlMs;
    // Back from an outage (or a failover), every heartbeat may have expired meanwhile: beat at once,
    // and give the other instances one TTL to do the same before judging anyone dead.
    this.connections.command.on('ready', () => {
      this.checkNotBefore = Date.now() + ttl;
      void this.beat().catch(() => undefined);
    });
    this.checkNotBefore = Date.now() + ttl;
    await this.beat().catch(() => undefined);
    this.timers = [
      setInterval(() => void this.beat().catch(() => undefined), Math.floor(ttl / 3)),
      setInterval(() => void this.check(), Math.floor(ttl / 2)),
    ];
    for (const timer of this.timers) timer.unref();
    this.logger.log(`instance ${this.instance.id} registered (heartbeat TTL ${ttl} ms)`);
  }

  /** Graceful stop: no more beats or checks, and the lease is returned. */
  async leave(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (!this.connections.enabled) return;
    const redis = this.connections.command;
    await redis
      .multi()
      .del(this.heartbeatKey(this.instance.id))
      .zrem(this.connections.key('instances'), this.instance.id)
      .exec()
      .catch(() => undefined);
  }

  private heartbeatKey(id: string): string {
    return this.connections.key('instance', id);
  }

  private async beat(): Promise<void> {
    await HEARTBEAT.run(
      this.connections.command,
      [this.heartbeatKey(this.instance.id), this.connections.key('instances')],
      [this.instance.id, this.config.instanceHeartbeatTtlMs],
    );
  }

  private async check(): Promise<void> {
    if (this.checking || Date.now() < this.checkNotBefore) return;
    this.checking = true;
    try {
      const dead = (await CLAIM_DEAD.run(
        this.connections.command,
        [this.connections.key('instances')],
        [this.connections.key('instance', ''), this.instance.id, this.config.instanceHeartbeatTtlMs],
      )) as string[];
      for (const id of dead) {
        this.logger.warn(`instance ${id} stopped renewing its heartbeat: taking over its sockets`);
        for (const handler of this.handlers) {
          await handler(id).catch((error: Error) =>
            this.logger.error(`takeover of instance ${id} failed: ${error.message}`, error.stack),
          );
        }
      }
    } catch {
      // Redis is down (logged once by RedisConnections); the next check tries again.
    } finally {
      this.checking = false;
    }
  }
}
