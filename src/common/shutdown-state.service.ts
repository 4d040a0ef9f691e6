import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/** Flips when shutdown begins so that /ready answers 503 and load balancers drain the instance. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private shuttingDown = false;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Called by main.ts as soon as a signal arrives, so /ready turns 503 before anything closes. */
  begin(): void {
    this.shuttingDown = true;
  }

  beforeApplicationShutdown(): void {
    this.begin();
  }
}
