import { Logger } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import type { Server } from 'socket.io';
import { RedisConnections } from '../common/redis/redis-connections.service';

/**
 * How long a cluster-wide request (`fetchSockets()`, `serverSideEmit` with an ack) waits for every
 * instance. A dead instance is still counted until it drops out of the PUBSUB NUMSUB count, so
 * callers keep these rare (admin actions) and tolerate the timeout.
 */
export const CLUSTER_REQUEST_TIMEOUT_MS = 2_000;

/**
 * Puts the Socket.IO Redis adapter (pub/sub) under `server`, so that every room emit,
 * `disconnectSockets()` and `fetchSockets()` reaches the sockets of every instance. Its channels
 * live under the deployment's prefix. Emits are fire-and-forget: while Redis is down a publish
 * fails (it is dropped and counted in the log, never thrown at the process), and the state that
 * matters lives in the stores, which answer INTERNAL_ERROR meanwhile.
 */
export function useRedisAdapter(server: Server, connections: RedisConnections): void {
  const pub = droppingPublishes(connections.open('io-pub'));
  const sub = connections.open('io-sub');
  server.adapter(
    createAdapter(pub, sub, {
      key: connections.key('socket.io'),
      requestsTimeout: CLUSTER_REQUEST_TIMEOUT_MS,
    }),
  );
}

/**
 * The adapter calls `publish` without handling its promise; a rejection (Redis down) would be an
 * unhandled rejection, which ends a Node process. The publish is wrapped to settle quietly.
 */
function droppingPublishes(client: Redis): Redis {
  const logger = new Logger('RedisIoAdapter');
  const publish = client.publish.bind(client) as (
    channel: string,
    message: string | Buffer,
  ) => Promise<number>;
  let dropped = 0;
  const wrapped = (channel: string, message: string | Buffer): Promise<number> =>
    publish(channel, message).catch((error: Error) => {
      if (dropped++ === 0) logger.warn(`socket.io broadcast dropped while redis is down: ${error.message}`);
      return 0;
    });
  client.on('ready', () => {
    if (dropped > 0) logger.log(`socket.io broadcasts flow again (${dropped} dropped meanwhile)`);
    dropped = 0;
  });
  Object.assign(client, { publish: wrapped });
  return client;
}
