import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { WsError } from '../common/errors/ws-error';
import { MetricsInstruments } from './metrics-instruments';

interface EventInstruments {
  observe(seconds: number): void;
  results: Map<string, { inc(): void }>;
}

/**
 * Counts and times each socket event that reaches its handler (`@UseInterceptors` on a gateway):
 * `signalgate_ws_events_total{event,result}` and `signalgate_ws_event_duration_seconds{event}`.
 * Events refused by a guard never get here; they are counted as guard rejections and rate-limit
 * blocks. Labels are the handler's event name (only subscribed events reach an interceptor) and
 * `ok` or the error code: bounded sets. Instruments are bound once per label set, so the event path
 * allocates nothing of its own.
 */
@Injectable()
export class WsMetricsInterceptor implements NestInterceptor {
  private readonly byEvent = new Map<string, EventInstruments>();

  constructor(private readonly instruments: MetricsInstruments) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const event = String(context.switchToWs().getPattern());
    const bound = this.bound(event);
    const started = process.hrtime.bigint();
    const done = (result: string): void => {
      bound.observe(Number(process.hrtime.bigint() - started) / 1e9);
      this.counter(event, bound, result).inc();
    };
    return next
      .handle()
      .pipe(tap({ complete: () => done('ok'), error: (error: unknown) => done(resultOf(error)) }));
  }

  private bound(event: string): EventInstruments {
    let bound = this.byEvent.get(event);
    if (!bound) {
      const histogram = this.instruments.wsEventDuration.labels({ event });
      bound = { observe: (seconds) => histogram.observe(seconds), results: new Map() };
      this.byEvent.set(event, bound);
    }
    return bound;
  }

  private counter(event: string, bound: EventInstruments, result: string): { inc(): void } {
    let counter = bound.results.get(result);
    if (!counter) {
      counter = this.instruments.wsEvents.labels({ event, result });
      bound.results.set(result, counter);
    }
    return counter;
  }
}

/** The code the client was sent: a refusal's own code, INTERNAL_ERROR for anything else. */
function resultOf(error: unknown): string {
  if (error instanceof WsError || error instanceof DomainError) return error.code;
  return ErrorCode.InternalError;
}
