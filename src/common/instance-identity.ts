import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process among the instances of a deployment: a fresh id per boot (a restarted instance is a
 * new one; the old one's sockets are gone with it), readable in logs and in Redis `CLIENT LIST`.
 */
@Injectable()
export class InstanceIdentity {
  readonly id = `${hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 32)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
