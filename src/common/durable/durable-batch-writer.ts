import type { Logger } from '@nestjs/common';
import { SpillFile } from './spill-file';

/** Where batches go. A write stores the whole batch or fails; it may see a record again after a failure. */
export interface DurableSink<T> {
  write(batch: T[]): Promise<void>;
}

export interface DurableBatchWriterOptions<T> {
  /** What is written, for log lines: `audit` gives "audit store unavailable…". */
  label: string;
  sink: DurableSink<T>;
  spillPath: string;
  /** Records per write; a queue this long is written without waiting for the timer. */
  batchSize: number;
  /** Records held in memory at most; beyond it the oldest go to the spill file. */
  queueMax: number;
  flushIntervalMs: number;
  /**
   * Runs on records as they leave the queue, just before they are written or spilled, oldest first
   * (the audit seals its hash chain here). A record whose write failed passes through again on its
   * way to the spill file, so this must leave records it already prepared as they are. Records read
   * back from the spill file are not prepared again.
   */
  prepare?: (batch: T[]) => T[];
  /** The owner's logger, so that lines name the feature. */
  logger: Logger;
}

/** Numbers the metrics read (queue depth, write results, spills). */
export interface DurableWriterStats {
  queueDepth: number;
  written: number;
  /** Failed batch writes (each retried or spilled, never dropped). */
  writeFailures: number;
  spilled: number;
  replayed: number;
}

/**
 * Writes records to a store in batches without ever making the producer wait or fail, and without
 * losing one:
 * - `push` only queues; the queue is written in batches, by size and by time;
 * - when the store fails, batches go to the spill file and are replayed, in order, when it answers
 *   again and at the next start (records carry their own ids, so the sink makes replays idempotent);
 * - a full queue sends its oldest records to the spill file, never to the floor;
 * - `close` flushes the queue to the store, else to the spill file, and anything pushed afterwards
 *   goes straight to the spill file. One error line per outage, one line when it ends.
 */
export class DurableBatchWriter<T> {
  private queue: T[] = [];
  private readonly spill: SpillFile<T>;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private storeDown = false;
  private closed = false;
  private readonly counters = { written: 0, writeFailures: 0, spilled: 0, replayed: 0 };

  constructor(private readonly options: DurableBatchWriterOptions<T>) {
    this.spill = new SpillFile<T>(options.spillPath, options.logger);
  }

  /** Replays what an earlier process left on disk, then flushes on the timer. */
  async start(): Promise<void> {
    await this.replaySpill();
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** At shutdown: the queue goes to the store, else to disk; later records go to disk directly. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    this.spillNow(this.queue.splice(0));
  }

  stats(): DurableWriterStats {
    return { queueDepth: this.queue.length, ...this.counters };
  }

  /** Synchronous, allocation-light, never throws into the producer. */
  push(record: T): void {
    if (this.closed) {
      this.spillNow([record]);
      return;
    }
    this.queue.push(record);
    const { queueMax, batchSize } = this.options;
    if (this.queue.length > queueMax) {
      // A chunk at a time (a tenth of the queue, at most a batch): one fsync per chunk rather than
      // one per record under sustained overload.
      const chunk = Math.max(this.queue.length - queueMax, Math.min(batchSize, Math.ceil(queueMax / 10)));
      this.spillNow(this.queue.splice(0, chunk));
    }
    if (this.queue.length >= batchSize) setImmediate(() => void this.flush());
  }

  /** Writes everything queued so far (serialised: one flush at a time). */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Older records wait on disk: they go first, and while they cannot, so does the queue.
      if (this.spill.hasRecords && !(await this.replaySpill())) {
        this.spillNow(this.queue.splice(0));
        return;
      }
      const batch = this.prepare(this.queue.splice(0, this.options.batchSize));
      try {
        await this.write(batch);
        this.counters.written += batch.length;
        this.markUp();
      } catch (error) {
        this.counters.writeFailures += 1;
        this.markDown(error);
        // If even the disk refuses, the batch is back in the queue: stop here, retry next flush.
        if (!this.spillNow(batch)) return;
      }
    }
  }

  /** Replays spilled records into the store, oldest first; true when nothing is left on disk. */
  private async replaySpill(): Promise<boolean> {
    const { batchSize, label, logger } = this.options;
    for (let taken = this.spill.takeForReplay(); taken; taken = this.spill.takeForReplay()) {
      try {
        for (let i = 0; i < taken.records.length; i += batchSize) {
          await this.write(taken.records.slice(i, i + batchSize));
        }
      } catch (error) {
        this.counters.writeFailures += 1;
        this.markDown(error);
        return false;
      }
      taken.done();
      this.counters.replayed += taken.records.length;
      this.markUp();
      if (taken.records.length > 0) logger.log(`replayed ${taken.records.length} spilled ${label} records`);
    }
    return true;
  }

  /**
   * One write, tried twice: a pool may hand out a connection the database closed while it sat idle
   * (a restart, a terminated backend); the pool drops it on that failure and the second try gets a
   * fresh one. A store that is really down fails both, and the caller spills.
   */
  private async write(batch: T[]): Promise<void> {
    try {
      await this.options.sink.write(batch);
    } catch {
      await this.options.sink.write(batch);
    }
  }

  private markDown(error: unknown): void {
    if (!this.storeDown) {
      this.options.logger.error(
        `${this.options.label} store unavailable, spilling to ${this.spill.path}: ${(error as Error).message}`,
      );
    }
    this.storeDown = true;
  }

  private markUp(): void {
    if (this.storeDown) this.options.logger.log(`${this.options.label} store answers again`);
    this.storeDown = false;
  }

  /** True once the records are on disk; otherwise they go back to the head of the queue. */
  private spillNow(records: T[]): boolean {
    if (records.length === 0) return true;
    try {
      this.spill.append(this.prepare(records));
      this.counters.spilled += records.length;
      return true;
    } catch (error) {
      // Disk and database both gone: keep them in memory rather than drop them; the next flush retries.
      this.options.logger.error(
        `cannot write the ${this.options.label} spill file: ${(error as Error).message}`,
      );
      this.queue.unshift(...records);
      return false;
    }
  }

  private prepare(records: T[]): T[] {
    return this.options.prepare ? this.options.prepare(records) : records;
  }
}
