import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/** Flips when shutdown begins so that /ready answers 503 and load balancers drain the instance. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private shuttingDown = false;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }
}
