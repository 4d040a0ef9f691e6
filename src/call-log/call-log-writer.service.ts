import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DurableBatchWriter, DurableWriterStats } from '../common/durable/durable-batch-writer';
import { AppConfig } from '../config/app-config';
import { CallLog, CallLogEnd, CallLogEntry } from './call-log';
import { CallLogRecord, endedRecord, startedRecord } from './call-log-record';
import { CallLogStore } from './call-log.store';

/**
 * The CallLog the signaling module calls: a call's row when it starts and again when it ends,
 * queued and written in batches by the shared DurableBatchWriter, so a call never waits on the
 * database and no row is lost through an outage (spilled, then replayed) or a graceful shutdown
 * (flushed, else spilled and replayed at the next boot). Replays are harmless because the store
 * upserts by callLogId and never lets a start overwrite an end. Batch size, queue bound and flush
 * interval are the audit trail's.
 */
@Injectable()
export class CallLogWriter extends CallLog implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(CallLogWriter.name);
  private readonly writer: DurableBatchWriter<CallLogRecord>;

  constructor(
    private readonly store: CallLogStore,
    config: AppConfig,
  ) {
    super();
    const { batchSize, queueMax, flushIntervalMs } = config.audit;
    this.writer = new DurableBatchWriter<CallLogRecord>({
      label: 'call log',
      sink: { write: (batch) => store.upsert(batch) },
      spillPath: config.callLog.spillPath,
      batchSize,
      queueMax,
      flushIntervalMs,
      logger: this.logger,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.store.migrate();
    await this.writer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }

  started(entry: CallLogEntry): void {
    this.writer.push(startedRecord(entry));
  }

  ended(entry: CallLogEntry & CallLogEnd): void {
    this.writer.push(endedRecord(entry));
  }

  /** Writes every row queued so far (tests, and nothing else, wait on it). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  stats(): DurableWriterStats {
    return this.writer.stats();
  }
}
