import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisConnections } from '../../common/redis/redis-connections.service';
import { LocalRevocationFeed, RevocationFeed, RevocationListener } from './revocation-feed';

/** How long boot waits for the subscription before it goes on (a `resync` follows when it lands). */
const SUBSCRIBE_WAIT_MS = 10_000;

interface RevocationMessage {
  agentId: string;
  atSec: number;
}

/**
 * Revocations over Redis pub/sub: `publish` is one PUBLISH on the channel `revocations` (under the
 * prefix) through the command connection, and every instance listens on a dedicated subscriber
 * connection (`revocations-sub`), so a revoke on one instance updates every instance's cache
 * within a round trip. Pub/sub keeps nothing: a message published while an instance's subscriber
 * is disconnected is lost to it, so each (re)subscription, once Redis confirms it, asks the
 * listeners to `resync` from the database. Nothing is written to Redis (no key, no TTL).
 */
export class RedisRevocationFeed extends RevocationFeed {
  private readonly logger = new Logger(RedisRevocationFeed.name);
  private readonly listeners = new Set<RevocationListener>();
  private subscriber: Redis | null = null;

  constructor(private readonly connections: RedisConnections) {
    super();
  }

  private get channel(): string {
    return this.connections.key('revocations');
  }

  async publish(agentId: string, atSec: number): Promise<void> {
    const message: RevocationMessage = { agentId, atSec };
    await this.connections.command.publish(this.channel, JSON.stringify(message));
  }

  async listen(listener: RevocationListener): Promise<void> {
    this.listeners.add(listener);
    if (this.subscriber) return;
    const subscriber = (this.subscriber = this.connections.open('revocations-sub'));
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) this.deliver(raw);
    });
    // While the first subscription is pending, its own outcome decides; after it, every
    // reconnection subscribes again (ioredis re-subscribes too, but without telling when it is
    // done) and, once Redis confirms, reloads what may have been missed in between.
    let first: 'pending' | 'waited' | 'done' = 'pending';
    subscriber.on('ready', () => {
      if (first !== 'done') return;
      this.subscribe(subscriber)
        .then(() => this.resync())
        .catch((error: Error) => this.logger.error(`revocations: subscribing failed: ${error.message}`));
    });
    const subscribed = this.subscribe(subscriber).then(
      async () => {
        // Boot gave up waiting and read the database meanwhile: read it again now.
        const resync = first === 'waited';
        first = 'done';
        if (resync) await this.resync();
      },
      (error: Error) => {
        first = 'done';
        this.logger.error(`revocations: subscribing failed (retried when redis is back): ${error.message}`);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS, true);
    });
    if (await Promise.race([subscribed.then(() => false), timedOut])) {
      first = 'waited';
      this.logger.error(`revocations: not subscribed after ${SUBSCRIBE_WAIT_MS} ms; going on without`);
    }
    clearTimeout(timer);
  }

  private async subscribe(subscriber: Redis): Promise<void> {
    await subscriber.subscribe(this.channel);
  }

  /** Never rejects: a failed reload is logged, and the next (re)subscription tries again. */
  private async resync(): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener.resync();
      } catch (error) {
        this.logger.error(`revocations: reloading them failed: ${(error as Error).message}`);
      }
    }
  }

  private deliver(raw: string): void {
    const message = parseMessage(raw);
    if (!message) {
      this.logger.warn('revocations: ignored a malformed message');
      return;
    }
    for (const listener of this.listeners) listener.revoked(message.agentId, message.atSec);
  }
}

function parseMessage(raw: string): RevocationMessage | null {
  try {
    const parsed = JSON.parse(raw) as Partial<RevocationMessage>;
    return typeof parsed.agentId === 'string' && Number.isSafeInteger(parsed.atSec)
      ? { agentId: parsed.agentId, atSec: parsed.atSec as number }
      : null;
  } catch {
    return null;
  }
}

/** Redis pub/sub when REDIS_URL is set (every instance hears every revoke), else this process only. */
export function revocationFeedFor(connections: RedisConnections): RevocationFeed {
  return connections.enabled ? new RedisRevocationFeed(connections) : new LocalRevocationFeed();
}
