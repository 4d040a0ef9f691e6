import { Injectable } from '@nestjs/common';
import { SocketEventObserver } from '../common/socket/socket-event-observer';
import { MetricsInstruments } from './metrics-instruments.service';

interface EventInstruments {
  duration: { observe(seconds: number): void };
  results: Map<string, { inc(): void }>;
}

/**
 * `signalgate_ws_events_total{event,result}` and `signalgate_ws_event_duration_seconds{event}`,
 * fed by the socket adapter for every event it dispatches to a handler — refused ones included.
 * Labels are the handler's event name (only subscribed events are dispatched) and `ok` or an error
 * code: bounded sets. Children are bound once per label set, so an event allocates nothing here.
 */
@Injectable()
export class WsEventMetrics extends SocketEventObserver {
  private readonly byEvent = new Map<string, EventInstruments>();

  constructor(private readonly instruments: MetricsInstruments) {
    super();
  }

  observe(event: string, result: string, seconds: number): void {
    let bound = this.byEvent.get(event);
    if (!bound) {
      bound = { duration: this.instruments.wsEventDuration.labels({ event }), results: new Map() };
      this.byEvent.set(event, bound);
    }
    bound.duration.observe(seconds);
    let counter = bound.results.get(result);
    if (!counter) {
      counter = this.instruments.wsEvents.labels({ event, result });
      bound.results.set(result, counter);
    }
    counter.inc();
  }
}
