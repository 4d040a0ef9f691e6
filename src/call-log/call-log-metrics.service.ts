import { Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { registerWriteResults } from '../common/durable/write-results-counter';
import { METRIC_PREFIX } from '../metrics/metrics-registry';
import { CallLogWriter } from './call-log-writer.service';

/** `signalgate_call_log_rows_total{result}`, read from the writer at scrape time, like the audit's series. */
@Injectable()
export class CallLogMetrics {
  constructor(registry: Registry, writer: CallLogWriter) {
    registerWriteResults(
      registry,
      `${METRIC_PREFIX}call_log_rows_total`,
      'Call log rows by result: written, spilled (database down), replayed, write_failed (batches).',
      () => writer.stats(),
    );
  }
}
