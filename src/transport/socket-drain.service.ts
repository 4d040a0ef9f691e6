import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Server } from 'socket.io';
import { InstanceLease } from '../common/redis/instance-lease.service';

/** How long a graceful stop waits for the disconnect handlers of its sockets. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * A graceful stop (SIGTERM, a rolling deploy), first of all shutdown steps, while the stores and
 * the audit still work: the instance stops listening (a reconnecting client lands on another
 * instance), closes every client connection at the transport — which the Socket.IO client answers
 * by reconnecting by itself, whereas a server-side `disconnect()` would tell it to stay away — and
 * waits for its disconnect handlers: presence enters its grace and calls are held, exactly as for
 * any lost connection, so a party that reconnects elsewhere resumes its call with its reconnect
 * token. Then the steps registered with {@link afterDrain} run (what the instance alone held), and
 * the instance returns its lease (nobody needs to take over what it handed back).
 */
@Injectable()
export class SocketDrain implements OnModuleDestroy {
  private readonly logger = new Logger(SocketDrain.name);
  private readonly pending = new Set<Promise<unknown>>();
  private readonly drained: (() => Promise<void>)[] = [];
  private server: Server | null = null;

  constructor(private readonly lease: InstanceLease) {}

  attach(server: Server): void {
    this.server = server;
  }

  /** `step` runs once every disconnect handler has, while the stores and the audit still work. */
  afterDrain(step: () => Promise<void>): void {
    this.drained.push(step);
  }

  /**
   * Disconnect handling, awaited by the drain: the adapter's queued task, and the gateway's handler
   * it starts (Nest does not hand the handler's promise back to the adapter, so the gateways pass it
   * here). Returns the task.
   */
  track<T>(task: Promise<T>): Promise<T> {
    this.pending.add(task);
    task
      .catch((error: Error) =>
        // Nest drops a disconnect handler's rejection silently: this is where it is seen.
        this.logger.error(`a disconnect handler failed: ${error?.message}`, error?.stack),
      )
      .finally(() => this.pending.delete(task));
    return task;
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (server) {
      const sockets = server.engine.clientsCount;
      server.httpServer?.close();
      server.engine.close();
      // Sockets learn of their closed transport a tick or a close handshake later: wait until every
      // one has gone (its disconnect handler then queued), then for the handlers themselves.
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (server.of('/').sockets.size > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await this.settled(deadline);
      if (sockets > 0) this.logger.log(`closed ${sockets} connection(s); their clients reconnect elsewhere`);
    }
    for (const step of this.drained)
      await step().catch((error: Error) =>
        this.logger.error(`a step after the drain failed: ${error?.message}`, error?.stack),
      );
    await this.lease.leave();
  }

  private async settled(until: number): Promise<void> {
    while (this.pending.size > 0 && Date.now() < until) {
      const timeout = new Promise((resolve) => setTimeout(resolve, until - Date.now()).unref());
      await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    }
    if (this.pending.size > 0)
      this.logger.warn(
        `${this.pending.size} disconnect handler(s) still running after ${DRAIN_TIMEOUT_MS} ms`,
      );
  }
}
