import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { AppConfig } from '../config/app-config';
import { createClientIpResolver } from './client-ip';

/** The client address of a raw request (socket handshakes), with the same TRUST_PROXY as Express. */
@Injectable()
export class ClientIpResolver {
  private readonly resolver: (req: IncomingMessage) => string;

  constructor(config: AppConfig) {
    this.resolver = createClientIpResolver(config.trustProxy);
  }

  resolve(req: IncomingMessage): string {
    return this.resolver(req);
  }
}
