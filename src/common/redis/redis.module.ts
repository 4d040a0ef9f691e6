import { Global, Module } from '@nestjs/common';
import { InstanceIdentity } from '../instance-identity';
import { InstanceLease } from './instance-lease.service';
import { RedisConnections } from './redis-connections.service';

/** The Redis connections, for every module that keeps shared state (inert without REDIS_URL). */
@Global()
@Module({
  providers: [InstanceIdentity, RedisConnections, InstanceLease],
  exports: [InstanceIdentity, RedisConnections, InstanceLease],
})
export class RedisModule {}
