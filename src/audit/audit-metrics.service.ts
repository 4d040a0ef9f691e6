import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics/metrics-registry';
import { AuditRecorder, AuditRecorderStats } from './audit-recorder.service';

/** Recorder counters as `signalgate_audit_events_total{result}` values. */
const RESULTS: readonly [keyof AuditRecorderStats, string][] = [
  ['written', 'written'],
  ['spilled', 'spilled'],
  ['replayed', 'replayed'],
  ['writeFailures', 'write_failed'],
];

/**
 * The audit trail's series, read from the recorder at scrape time so that recording itself does
 * no metrics work: the in-memory queue depth, and records written to the store, spilled to the
 * local file, replayed from it, and failed batch writes (each retried or spilled, never dropped).
 */
@Injectable()
export class AuditMetrics {
  constructor(registry: Registry, recorder: AuditRecorder) {
    new Gauge({
      name: `${METRIC_PREFIX}audit_queue_depth`,
      help: 'Audit records waiting in memory for their batch write.',
      registers: [registry],
      collect() {
        this.set(recorder.stats().queueDepth);
      },
    });
    const reported: Partial<Record<keyof AuditRecorderStats, number>> = {};
    new Counter({
      name: `${METRIC_PREFIX}audit_events_total`,
      help: 'Audit records by result: written, spilled (database down), replayed, write_failed (batches).',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        const stats = recorder.stats();
        for (const [field, result] of RESULTS) {
          // Never negative: a counter only goes up (and prom-client throws on a negative increment).
          const delta = Math.max(0, stats[field] - (reported[field] ?? 0));
          reported[field] = stats[field];
          // Zero included, so that every result is exposed from the first scrape.
          this.inc({ result }, delta);
        }
      },
    });
  }
}
