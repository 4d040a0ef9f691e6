import { Injectable, Logger } from '@nestjs/common';
import { SecurityEvent, SecurityEventType } from './security-event';

export type SecurityEventListener = (event: Readonly<SecurityEvent>) => void;

/**
 * The typed in-process bus of DESIGN §1. Guards and services publish decisions; audit, metrics and
 * signaling subscribe. Publishing is synchronous and cheap, and a failing subscriber never reaches
 * the publisher: a security decision must not fail because its record could not be written.
 */
@Injectable()
export class SecurityEventBus {
  private readonly logger = new Logger(SecurityEventBus.name);
  private readonly listeners = new Set<SecurityEventListener>();
  private readonly typed = new Map<SecurityEventType, Set<SecurityEventListener>>();

  publish(event: SecurityEvent): void {
    if (event.occurredAt === undefined) event.occurredAt = Date.now();
    for (const listener of this.listeners) this.deliver(listener, event);
    const forType = this.typed.get(event.type);
    if (forType) for (const listener of forType) this.deliver(listener, event);
  }

  /** Every event, or only the given types. Returns the unsubscribe function. */
  subscribe(listener: SecurityEventListener, types?: readonly SecurityEventType[]): () => void {
    if (!types) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }
    for (const type of types) {
      const set = this.typed.get(type) ?? new Set<SecurityEventListener>();
      set.add(listener);
      this.typed.set(type, set);
    }
    return () => types.forEach((type) => this.typed.get(type)?.delete(listener));
  }

  private deliver(listener: SecurityEventListener, event: SecurityEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.logger.error(`security-event subscriber failed on ${event.type}`, (error as Error).stack);
    }
  }
}
