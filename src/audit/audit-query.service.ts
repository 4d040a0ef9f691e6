import { Injectable } from '@nestjs/common';
import { AdminReader, adminReadEvent, readableOrgId, readFailureOf } from '../auth/admin-reader';
import type { HttpIdentity } from '../auth/agent-auth.service';
import { roleAtLeast } from '../auth/directory/directory.types';
import { Clock } from '../common/clock.service';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { parseInstant } from '../common/instant';
import type { SecurityEventType } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { ExportFormat } from './audit-export';
import type { AuditRecord } from './audit-record';
import { AuditVerifier, VerifyResult } from './audit-verifier.service';
import { AuditFilter, AuditStore, AuditSummary } from './audit.store';
import { decodeCursor, encodeCursor } from './dto/audit-query.validators';

/** The record of PROTOCOL §7 as admins read it: without `seq`, the store's position in the chain. */
export type PublicAuditRecord = Omit<AuditRecord, 'seq'>;

export interface AuditPage {
  items: PublicAuditRecord[];
  /** null on the last page. */
  nextCursor: string | null;
}

export interface AuditSummaryView extends AuditSummary {
  from: string;
  to: string;
}

/**
 * The filters an admin may send (validated by the DTOs; dates still as sent): the store's filter,
 * with `type` named as the query parameter is.
 */
export type AuditFilterQuery = Omit<AuditFilter, 'types'> & { type?: readonly SecurityEventType[] };

export const AUDIT_PAGE_MAX = 500;
/** Records per store query while exporting: memory stays bounded whatever the result size. */
export const AUDIT_EXPORT_BATCH = 500;
const TOP_FAILURE_SOURCES = 10;
const DEFAULT_SUMMARY_MS = 24 * 60 * 60 * 1000;

type ReadType = 'admin.audit_read' | 'admin.audit_export';

/**
 * The rules of reading the audit trail (PROTOCOL §4, §7), free of HTTP:
 * - visibility: platform admins see every record and may filter by organisation; auditors and
 *   admins see only records of their own organisation (records without one are platform-only),
 *   and a record outside that is "not found", never "forbidden", so ids of other organisations
 *   cannot be probed;
 * - every read and export that reaches this service is itself recorded, exactly once, refusals
 *   included (`admin.audit_read` / `admin.audit_export`).
 */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly store: AuditStore,
    private readonly verifier: AuditVerifier,
    private readonly bus: SecurityEventBus,
    private readonly clock: Clock,
  ) {}

  /** Newest first, keyset-paged by id: records added during a walk never shift later pages. */
  list(reader: AdminReader, query: AuditFilterQuery, limit: number, cursor?: string): Promise<AuditPage> {
    const details = { operation: 'list', filters: filtersOf(query), limit, cursor: cursor !== undefined };
    return this.recorded(
      reader,
      'admin.audit_read',
      details,
      async () => {
        const filter = this.visibleFilter(reader.user, query);
        const before = cursor === undefined ? undefined : decodeCursor(cursor);
        if (before === null)
          throw new DomainError(ErrorCode.InvalidPayload, 'cursor is not valid', 'bad_cursor');
        // One extra row says whether another page exists, so the last page says null.
        const rows = await this.store.list(filter, limit + 1, before);
        const items = rows.slice(0, limit).map(toPublicRecord);
        const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1].id) : null;
        return { items, nextCursor };
      },
      (page) => ({ returned: page.items.length }),
    );
  }

  get(reader: AdminReader, id: string): Promise<PublicAuditRecord> {
    return this.recorded(reader, 'admin.audit_read', { operation: 'get', recordId: id }, async () => {
      const record = await this.store.get(id);
      if (!record || !canSee(reader.user, record)) {
        throw new DomainError(ErrorCode.NotFound, 'Audit record not found.', 'not_found');
      }
      return toPublicRecord(record);
    });
  }

  summary(
    reader: AdminReader,
    query: Pick<AuditFilterQuery, 'from' | 'to' | 'orgId'>,
  ): Promise<AuditSummaryView> {
    const details = { operation: 'summary', filters: filtersOf(query) };
    return this.recorded(reader, 'admin.audit_read', details, async () => {
      const filter = this.visibleFilter(reader.user, { orgId: query.orgId });
      const to = query.to ? instant(query.to) : new Date(this.clock.now()).toISOString();
      const from = query.from
        ? instant(query.from)
        : new Date(Date.parse(to) - DEFAULT_SUMMARY_MS).toISOString();
      const summary = await this.store.summary({ ...filter, from, to }, TOP_FAILURE_SOURCES);
      return { from, to, ...summary };
    });
  }

  verify(reader: AdminReader): Promise<VerifyResult> {
    return this.recorded(
      reader,
      'admin.audit_read',
      { operation: 'verify' },
      () => this.verifier.verify(),
      (result) => ({ ok: result.ok, checked: result.checked, firstBadId: result.firstBadId }),
    );
  }

  /**
   * The records of an export, page by page, newest first. Visibility is checked now, so a refusal
   * comes before anything is written; the `admin.audit_export` record is written when the export
   * ends (complete, aborted by the client, or failed), with the number of records delivered.
   */
  exportRecords(
    reader: AdminReader,
    query: AuditFilterQuery,
    format: ExportFormat,
  ): AsyncGenerator<PublicAuditRecord[]> {
    const details = { operation: 'export', format, filters: filtersOf(query) };
    let filter: AuditFilter;
    try {
      filter = this.visibleFilter(reader.user, query);
    } catch (error) {
      this.publish(reader, 'admin.audit_export', details, readFailureOf(error));
      throw error;
    }
    return this.exportPages(reader, filter, details);
  }

  private async *exportPages(
    reader: AdminReader,
    filter: AuditFilter,
    details: Record<string, unknown>,
  ): AsyncGenerator<PublicAuditRecord[]> {
    let delivered = 0;
    let failure: { reason: string; code?: string } | undefined = { reason: 'aborted' };
    try {
      let before: string | undefined;
      for (;;) {
        const page = await this.store.list(filter, AUDIT_EXPORT_BATCH, before);
        if (page.length > 0) {
          yield page.map(toPublicRecord);
          // Counted once the consumer asks for more: it has written this page.
          delivered += page.length;
        }
        if (page.length < AUDIT_EXPORT_BATCH) break;
        before = page[page.length - 1].id;
      }
      failure = undefined;
    } catch (error) {
      failure = readFailureOf(error);
      throw error;
    } finally {
      this.publish(
        reader,
        'admin.audit_export',
        { ...details, records: delivered, complete: !failure },
        failure,
      );
    }
  }

  /** The store filter a reader may run: their organisation unless they are a platform admin. */
  private visibleFilter(user: HttpIdentity, query: AuditFilterQuery): AuditFilter {
    const orgId = readableOrgId(user, query.orgId);
    return {
      types: query.type,
      outcome: query.outcome,
      agentId: query.agentId,
      userId: query.userId,
      ip: query.ip,
      orgId,
      from: query.from === undefined ? undefined : instant(query.from),
      to: query.to === undefined ? undefined : instant(query.to),
    };
  }

  /** Runs a read and records it once: success with `resultDetails`, or the refusal/failure. */
  private async recorded<T>(
    reader: AdminReader,
    type: ReadType,
    details: Record<string, unknown>,
    work: () => Promise<T>,
    resultDetails: (result: T) => Record<string, unknown> = () => ({}),
  ): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      this.publish(reader, type, details, readFailureOf(error));
      throw error;
    }
    this.publish(reader, type, { ...details, ...resultDetails(result) });
    return result;
  }

  private publish(
    reader: AdminReader,
    type: ReadType,
    details: Record<string, unknown>,
    failure?: { reason: string; code?: string },
  ): void {
    this.bus.publish(adminReadEvent(type, reader, details, failure));
  }
}

export function toPublicRecord(record: AuditRecord): PublicAuditRecord {
  const { seq: _seq, ...rest } = record;
  return rest;
}

function canSee(user: HttpIdentity, record: AuditRecord): boolean {
  if (roleAtLeast(user.role, 'platform_admin')) return true;
  return record.orgId !== undefined && record.orgId === user.orgId;
}

/** The DTOs accepted the value already; this only normalises it to the stored ISO form. */
function instant(value: string): string {
  const date = parseInstant(value);
  if (!date) throw new DomainError(ErrorCode.InvalidPayload, `not a date: ${value}`, 'bad_date');
  return date.toISOString();
}

const FILTER_KEYS = ['type', 'outcome', 'agentId', 'userId', 'ip', 'orgId', 'from', 'to'] as const;

/** The filters as sent, for the read's own record (only those present). */
function filtersOf(query: AuditFilterQuery): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of FILTER_KEYS) if (query[key] !== undefined) result[key] = query[key];
  return result;
}
