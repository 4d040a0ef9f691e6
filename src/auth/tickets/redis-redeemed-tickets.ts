import { RedisConnections } from '../../common/redis/redis-connections.service';
import { InMemoryRedeemedTickets, RedeemedTickets } from './redeemed-tickets';

/**
 * Redeemed ticket ids shared by every instance: `ticket-redeemed:<jti>`, written with one
 * `SET NX PX`, so that of two instances redeeming one ticket at once exactly one succeeds. The key
 * expires when the id may be forgotten (at most the ticket's 60 seconds plus the clock tolerance).
 */
export class RedisRedeemedTickets extends RedeemedTickets {
  constructor(private readonly connections: RedisConnections) {
    super();
  }

  async claim(jti: string, forgetAtMs: number, nowMs: number): Promise<boolean> {
    const key = this.connections.key('ticket-redeemed', jti);
    const ttlMs = Math.max(1, Math.ceil(forgetAtMs - nowMs));
    return (await this.connections.command.set(key, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}

/** Redis when REDIS_URL is set (tickets are single-use cluster-wide), else this process's memory. */
export function redeemedTicketsFor(connections: RedisConnections): RedeemedTickets {
  return connections.enabled ? new RedisRedeemedTickets(connections) : new InMemoryRedeemedTickets();
}
