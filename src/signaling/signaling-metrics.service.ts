import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics-registry';
import { CallStore } from './calls/call.store';
import { PresenceStore } from './presence/presence.store';
import { CALL_END_REASONS, type AgentStatus, type CallEndReason } from './protocol';
import { SocketIoNotifier } from './socket-io.notifier';
import { VisitorStore } from './visitors/visitor.store';

const STATUSES: readonly AgentStatus[] = ['idle', 'away', 'offline', 'in_call', 'in_simulation'];

/**
 * The signaling series of PROTOCOL §4. Gauges read the state stores when Prometheus scrapes (so
 * they are right straight after a restart and, with a shared store, across instances); sockets are
 * this process's own. `calls_total` counts ended calls by how they ended.
 */
@Injectable()
export class SignalingMetrics {
  private readonly callsEnded: Counter<'outcome'>;
  private readonly widgetEvents: Counter<'org' | 'event'>;

  constructor(
    registry: Registry,
    presence: PresenceStore,
    visitors: VisitorStore,
    calls: CallStore,
    notifier: SocketIoNotifier,
  ) {
    const registers = [registry];
    new Gauge({
      name: `${METRIC_PREFIX}sockets_connected`,
      help: 'Socket.IO connections open on this instance (agents, visitors and anonymous).',
      registers,
      collect() {
        this.set(notifier.connectedSockets());
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}agents_online`,
      help: 'Agents with a presence (connected or within the disconnect grace), by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = new Map<string, number>(STATUSES.map((status) => [status, 0]));
        for (const agent of await presence.list())
          counts.set(agent.status, (counts.get(agent.status) ?? 0) + 1);
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}visitors_connected`,
      help: 'Visitor sessions (including those held for a call reconnect).',
      registers,
      async collect() {
        this.set(await visitors.count());
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}calls_active`,
      help: 'Accepted calls not yet ended (including those on hold for a reconnect).',
      registers,
      async collect() {
        this.set((await calls.counts()).calls);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}calls_pending`,
      help: 'Call requests ringing an agent or waiting for one.',
      registers,
      async collect() {
        this.set((await calls.counts()).requests);
      },
    });
    this.callsEnded = new Counter({
      name: `${METRIC_PREFIX}calls_total`,
      help: 'Calls that ended, by outcome (the call:ended reason).',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome exists from the first scrape, so rate() over it never starts from a gap.
    for (const outcome of CALL_END_REASONS) this.callsEnded.inc({ outcome }, 0);
    // By organisation (a directory-sized set), never by visitor or page.
    this.widgetEvents = new Counter({
      name: `${METRIC_PREFIX}widget_events_total`,
      help: 'Analytics events of the visitor widget (pageviews, interactions, missed opportunities), by organisation.',
      labelNames: ['org', 'event'],
      registers,
    });
  }

  callEnded(reason: CallEndReason): void {
    this.callsEnded.inc({ outcome: reason });
  }

  widgetEvent(orgId: string, event: string): void {
    this.widgetEvents.inc({ org: orgId, event });
  }
}
