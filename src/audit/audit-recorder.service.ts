import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig } from '../config/app-config';
import { hashRecord } from './audit-hash';
import { AuditRecord, GENESIS_HASH } from './audit-record';
import { AuditSpillFile } from './audit-spill-file';
import { AuditStore } from './audit.store';

/** Numbers the metrics module reads (queue depth, write results, spills). */
export interface AuditRecorderStats {
  queueDepth: number;
  written: number;
  writeFailures: number;
  spilled: number;
  replayed: number;
}

/** Detail keys whose values are credentials by name: stored as a fingerprint at most. */
const SECRET_KEYS =
  /^(token|accessToken|refreshToken|reconnectToken|ticket|secret|password|key|apiKey|api_key|sdp|signal|authorization)$/i;
/** Placeholder of `prevHash`/`hash` until seal(). */
const UNSEALED = '';
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Records every security event (DESIGN §6) without ever slowing or failing its publisher, and
 * without losing one:
 * - the bus listener only builds the record (id, chain position, hash) and queues it;
 * - the queue is written in batches, by size and by time;
 * - when the store fails, batches go to the spill file and are replayed, in order and exactly once
 *   (ids are fixed at record time), when it answers again;
 * - a full queue sends its oldest records to the spill file, never to the floor;
 * - at shutdown the queue is flushed to the store, else to the spill file, and anything recorded
 *   afterwards goes straight to the spill file.
 */
@Injectable()
export class AuditRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditRecorder.name);
  /** This process's chain: one writer per chain keeps `prevHash` links unambiguous. */
  readonly chain = `${hostname()}/${uuidv7()}`;
  private seq = 0;
  private prevHash = GENESIS_HASH;
  private queue: AuditRecord[] = [];
  private readonly spill: AuditSpillFile;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private storeDown = false;
  private closed = false;
  private readonly counters = { written: 0, writeFailures: 0, spilled: 0, replayed: 0 };

  constructor(
    private readonly store: AuditStore,
    private readonly config: AppConfig,
    bus: SecurityEventBus,
  ) {
    this.spill = new AuditSpillFile(config.audit.spillPath);
    // Subscribed at construction, before any module's init hook can publish (boot warnings, seeding).
    bus.subscribe((event) => this.record(event));
  }

  async onModuleInit(): Promise<void> {
    await this.store.migrate();
    await this.replaySpill();
    this.timer = setInterval(() => void this.flush(), this.config.audit.flushIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    // Whatever could not reach the store is on disk; later records go there directly.
    this.spillNow(this.queue.splice(0));
  }

  stats(): AuditRecorderStats {
    return { queueDepth: this.queue.length, ...this.counters };
  }

  /** The bus listener: synchronous, allocation-light, never throws into the publisher. */
  record(event: Readonly<SecurityEvent>): void {
    const record = this.build(event);
    if (this.closed) {
      this.spillNow([record]);
      return;
    }
    this.queue.push(record);
    const { queueMax, batchSize } = this.config.audit;
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
      const batch = this.seal(this.queue.splice(0, this.config.audit.batchSize));
      try {
        await this.store.append(batch);
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
    for (let taken = this.spill.takeForReplay(); taken; taken = this.spill.takeForReplay()) {
      try {
        for (let i = 0; i < taken.records.length; i += this.config.audit.batchSize) {
          await this.store.append(taken.records.slice(i, i + this.config.audit.batchSize));
        }
      } catch (error) {
        this.counters.writeFailures += 1;
        this.markDown(error);
        return false;
      }
      taken.done();
      this.counters.replayed += taken.records.length;
      this.markUp();
      if (taken.records.length > 0) this.logger.log(`replayed ${taken.records.length} spilled audit records`);
    }
    return true;
  }

  private markDown(error: unknown): void {
    if (!this.storeDown) {
      this.logger.error(
        `audit store unavailable, spilling to ${this.spill.path}: ${(error as Error).message}`,
      );
    }
    this.storeDown = true;
  }

  private markUp(): void {
    if (this.storeDown) this.logger.log('audit store answers again');
    this.storeDown = false;
  }

  /** True once the records are on disk; otherwise they go back to the head of the queue. */
  private spillNow(records: AuditRecord[]): boolean {
    if (records.length === 0) return true;
    try {
      this.spill.append(this.seal(records));
      this.counters.spilled += records.length;
      return true;
    } catch (error) {
      // Disk and database both gone: keep them in memory rather than drop them; the next flush retries.
      this.logger.error(`cannot write the audit spill file: ${(error as Error).message}`);
      this.queue.unshift(...records);
      return false;
    }
  }

  private build(event: Readonly<SecurityEvent>): AuditRecord {
    const details: Record<string, unknown> = { ...scrub(event.details) };
    if (event.code) details.code = event.code;
    if (event.method) details.method = event.method;
    const actor = compact({ ...event.actor });
    const source = {
      ...compact({ ip: event.source.ip, userAgent: event.source.userAgent, socketId: event.source.socketId }),
      transport: event.source.transport,
    };
    const record: AuditRecord = {
      id: uuidv7(),
      occurredAt: new Date(event.occurredAt ?? Date.now()).toISOString(),
      type: event.type,
      outcome: event.outcome,
      actor,
      source,
      chain: this.chain,
      seq: this.seq++,
      // Linked and hashed by seal(), off the publisher's path, in chain order.
      prevHash: UNSEALED,
      hash: UNSEALED,
    };
    if (event.reason !== undefined) record.reason = event.reason;
    if (event.orgId !== undefined) record.orgId = event.orgId;
    if (event.target !== undefined) record.target = event.target;
    if (Object.keys(details).length > 0) record.details = details;
    return record;
  }

  /**
   * Links and hashes records just before they are written anywhere. Records leave the queue only
   * from its head, in `seq` order, so sealing at that point builds the chain in order; a record
   * already sealed (a batch retried on disk) is left as it is.
   */
  private seal(records: AuditRecord[]): AuditRecord[] {
    for (const record of records) {
      if (record.hash !== UNSEALED) continue;
      record.prevHash = this.prevHash;
      record.hash = hashRecord(record);
      this.prevHash = record.hash;
    }
    return records;
  }
}

function compact<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values))
    if (value !== undefined && value !== null) result[key] = value;
  return result as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/**
 * Defence in depth: publishers never put credentials in `details`, but should one slip in, a value
 * under a credential-like key or shaped like a JWT is stored as a short fingerprint instead.
 */
function scrub(value: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (!value) return {};
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (typeof member === 'string' && (SECRET_KEYS.test(key) || JWT_SHAPE.test(member))) {
      result[key] = fingerprint(member);
    } else if (member && typeof member === 'object' && !Array.isArray(member)) {
      result[key] = scrub(member as Record<string, unknown>);
    } else {
      result[key] = member;
    }
  }
  return result;
}

function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}
