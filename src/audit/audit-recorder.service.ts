import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import { DurableBatchWriter, DurableWriterStats } from '../common/durable/durable-batch-writer';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig } from '../config/app-config';
import { hashRecord } from './audit-hash';
import { AuditRecord, GENESIS_HASH } from './audit-record';
import { AuditStore } from './audit.store';

/** Numbers the metrics module reads (queue depth, write results, spills). */
export type AuditRecorderStats = DurableWriterStats;

/** Detail keys whose values are credentials by name: stored as a fingerprint at most. */
const SECRET_KEYS =
  /^(token|accessToken|refreshToken|reconnectToken|ticket|secret|password|key|apiKey|api_key|sdp|signal|authorization)$/i;
/** Placeholder of `prevHash`/`hash` until seal(). */
const UNSEALED = '';
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Records every security event (DESIGN §6) without ever slowing or failing its publisher, and
 * without losing one:
 * - the bus listener only builds the record (id, chain position) and queues it;
 * - the queue is written in batches, by size and by time;
 * - when the store fails, batches go to the spill file and are replayed, in order and exactly once
 *   (ids are fixed at record time), when it answers again;
 * - a full queue sends its oldest records to the spill file, never to the floor;
 * - at shutdown the queue is flushed to the store, else to the spill file, and anything recorded
 *   afterwards goes straight to the spill file.
 * The queue, batches and spill file are the shared DurableBatchWriter; what is the audit's own is
 * building the record and sealing the chain as records leave the queue.
 */
@Injectable()
export class AuditRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditRecorder.name);
  /** This process's chain: one writer per chain keeps `prevHash` links unambiguous. */
  readonly chain = `${hostname()}/${uuidv7()}`;
  private seq = 0;
  private prevHash = GENESIS_HASH;
  private readonly writer: DurableBatchWriter<AuditRecord>;

  constructor(
    private readonly store: AuditStore,
    config: AppConfig,
    bus: SecurityEventBus,
  ) {
    const { spillPath, batchSize, queueMax, flushIntervalMs } = config.audit;
    this.writer = new DurableBatchWriter<AuditRecord>({
      label: 'audit',
      sink: {
        write: async (batch) => {
          await store.append(batch);
        },
      },
      spillPath,
      batchSize,
      queueMax,
      flushIntervalMs,
      prepare: (records) => this.seal(records),
      logger: this.logger,
    });
    // Subscribed at construction, before any module's init hook can publish (boot warnings, seeding).
    bus.subscribe((event) => this.record(event));
  }

  async onModuleInit(): Promise<void> {
    await this.store.migrate();
    await this.writer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }

  stats(): AuditRecorderStats {
    return this.writer.stats();
  }

  /** The bus listener: synchronous, allocation-light, never throws into the publisher. */
  record(event: Readonly<SecurityEvent>): void {
    this.writer.push(this.build(event));
  }

  /** Writes everything queued so far (serialised: one flush at a time). */
  flush(): Promise<void> {
    return this.writer.flush();
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
   * Links and hashes records just before they are written anywhere (the writer's `prepare`).
   * Records leave the queue only from its head, in `seq` order, so sealing at that point builds the
   * chain in order; a record already sealed (a batch retried on disk) is left as it is.
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
