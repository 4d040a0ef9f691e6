import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics-registry';

/** Seconds: socket events are sub-millisecond to a few ms; HTTP reaches the database. */
const WS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * The instruments the metrics module feeds itself (PROTOCOL §4): from the security-event bus, the
 * socket adapter and the HTTP middleware. Feature modules register their own (gauges read
 * from their state at scrape time) in the same Registry.
 */
@Injectable()
export class MetricsInstruments {
  readonly authAttempts: Counter<'method' | 'outcome' | 'reason'>;
  readonly guardRejections: Counter<'guard' | 'code'>;
  readonly rateLimited: Counter<'scope'>;
  readonly metricsScrapes: Counter<'outcome'>;
  readonly wsEvents: Counter<'event' | 'result'>;
  readonly wsEventDuration: Histogram<'event'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.authAttempts = new Counter({
      name: `${METRIC_PREFIX}auth_attempts_total`,
      help: 'Credential checks (agent:login, refresh, handshake) by method, outcome and failure reason.',
      labelNames: ['method', 'outcome', 'reason'],
      registers,
    });
    this.guardRejections = new Counter({
      name: `${METRIC_PREFIX}guard_rejections_total`,
      help: 'Requests and socket events refused by an access guard, by guard and error code.',
      labelNames: ['guard', 'code'],
      registers,
    });
    this.rateLimited = new Counter({
      name: `${METRIC_PREFIX}rate_limited_total`,
      help: 'Requests and socket events refused by a rate limit, by scope (ws, http, metrics).',
      labelNames: ['scope'],
      registers,
    });
    this.metricsScrapes = new Counter({
      name: `${METRIC_PREFIX}metrics_scrapes_total`,
      help: 'GET /metrics decisions by outcome (success, failure).',
      labelNames: ['outcome'],
      registers,
    });
    this.wsEvents = new Counter({
      name: `${METRIC_PREFIX}ws_events_total`,
      help: 'Socket events dispatched to a handler, by event and result (ok, or the error code sent).',
      labelNames: ['event', 'result'],
      registers,
    });
    this.wsEventDuration = new Histogram({
      name: `${METRIC_PREFIX}ws_event_duration_seconds`,
      help: 'Time a socket event spends in the server (throttle, guard, validation, handler), by event.',
      labelNames: ['event'],
      buckets: WS_BUCKETS,
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request durations by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
  }
}
