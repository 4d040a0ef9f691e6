import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { InstanceIdentity } from '../instance-identity';

/** How long boot waits for Redis before it goes on unready (the connection keeps retrying). */
const BOOT_WAIT_MS = 10_000;

/**
 * Every Redis connection of this process, by name (ioredis, one client library for everything):
 * `command` for the stores, scripts and counters, and dedicated ones for subscribers (a connection
 * in subscriber mode runs no other command). Inert without `REDIS_URL`.
 *
 * Outages are logged once each way (down, back), never thrown at the process: ioredis reconnects by
 * itself and re-subscribes. The command connection does not queue while it is down (a request that
 * needs state fails at once with INTERNAL_ERROR, "please retry", rather than hang); subscribers do,
 * so their subscriptions survive.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly clients = new Map<string, Redis>();
  private readonly down = new Set<string>();
  private commandClient: Redis | null = null;
  private closing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly instance: InstanceIdentity,
  ) {}

  get enabled(): boolean {
    return this.config.redisUrl !== null;
  }

  /** The deployment's key prefix (`REDIS_PREFIX`). */
  get prefix(): string {
    return this.config.redisPrefix;
  }

  /** `prefix` + the parts joined by `:`. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** The shared connection for commands and scripts. */
  get command(): Redis {
    this.commandClient ??= this.open('command', { enableOfflineQueue: false, commandTimeout: 2_000 });
    return this.commandClient;
  }

  /** A dedicated connection (a subscriber, the Socket.IO adapter's pair), named in `CLIENT LIST`. */
  open(name: string, options: { enableOfflineQueue?: boolean; commandTimeout?: number } = {}): Redis {
    if (!this.config.redisUrl) throw new Error('REDIS_URL is not set');
    if (this.clients.has(name)) throw new Error(`redis connection ${name} is already open`);
    const client = new Redis(this.config.redisUrl, {
      connectionName: `${this.prefix}${this.instance.id}:${name}`,
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      // A Redis that accepts connections but does not answer fails commands rather than hang them.
      commandTimeout: options.commandTimeout,
      // Fail a command after one reconnection attempt rather than twenty: callers answer "retry".
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    });
    const lost = (why: string): void => {
      if (this.closing || this.down.has(name)) return;
      this.down.add(name);
      this.logger.error(`redis (${name}) unavailable: ${why}`);
    };
    // A server that goes away cleanly closes the connection without an error; a refused
    // reconnection errors. Either is the start of an outage, logged once.
    client.on('error', (error: Error) => lost(error.message));
    client.on('close', () => lost('connection closed'));
    client.on('ready', () => {
      if (this.down.delete(name)) this.logger.log(`redis (${name}) answers again`);
    });
    this.clients.set(name, client);
    return client;
  }

  /** True when every open connection is ready (the `/ready` probe). */
  get healthy(): boolean {
    for (const client of this.clients.values()) if (client.status !== 'ready') return false;
    return true;
  }

  /** Round trip on the command connection; false when Redis does not answer. */
  async ping(): Promise<boolean> {
    if (!this.enabled) return true;
    try {
      return (await this.command.ping()) === 'PONG' && this.healthy;
    } catch {
      return false;
    }
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const client = this.command;
    if (client.status === 'ready') return;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BOOT_WAIT_MS);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (ready) this.logger.log(`redis: ${redactRedisUrl(this.config.redisUrl!)} (prefix ${this.prefix})`);
    else this.logger.error(`redis does not answer after ${BOOT_WAIT_MS} ms; not ready until it does`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.clients.values()].map((client) => client.quit().catch(() => client.disconnect())),
    );
    this.clients.clear();
    this.commandClient = null;
  }
}

function redactRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
