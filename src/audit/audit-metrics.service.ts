import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { registerWriteResults } from '../common/durable/write-results-counter';
import { METRIC_PREFIX } from '../metrics/metrics-registry';
import { AuditRecorder } from './audit-recorder.service';

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
    registerWriteResults(
      registry,
      `${METRIC_PREFIX}audit_events_total`,
      'Audit records by result: written, spilled (database down), replayed, write_failed (batches).',
      () => recorder.stats(),
    );
  }
}
