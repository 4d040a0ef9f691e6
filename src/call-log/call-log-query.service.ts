import { Injectable } from '@nestjs/common';
import { AdminReader, adminReadEvent, readableOrgId, readFailureOf } from '../auth/admin-reader';
import type { HttpIdentity } from '../auth/agent-auth.service';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { parseInstant } from '../common/instant';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import type { CallEndReason } from '../signaling/protocol';
import type { CallLogRecord } from './call-log-record';
import { CallLogFilter, CallLogStore } from './call-log.store';
import { decodeCallLogCursor, encodeCallLogCursor } from './dto/call-log-query.validators';

export interface CallLogPage {
  items: CallLogRecord[];
  /** null on the last page. */
  nextCursor: string | null;
}

/** The filters an admin may send (validated by the DTO; dates still as sent). */
export interface CallLogFilterQuery {
  agentId?: string;
  orgId?: string;
  endReason?: CallEndReason;
  from?: string;
  to?: string;
}

export const CALL_LOG_PAGE_MAX = 500;

const FILTER_KEYS = ['agentId', 'orgId', 'endReason', 'from', 'to'] as const;

/**
 * The rules of reading the call log, free of HTTP, as the audit trail's (PROTOCOL §4):
 * - visibility: platform admins see every call and may filter by organisation; auditors and admins
 *   see their own organisation's calls only, and may not name another;
 * - every read that reaches this service is recorded once (`admin.call_log_read`), refusals included.
 */
@Injectable()
export class CallLogQueryService {
  constructor(
    private readonly store: CallLogStore,
    private readonly bus: SecurityEventBus,
  ) {}

  /** Newest first, keyset-paged by (startedAt, callLogId): rows added during a walk never shift later pages. */
  async list(
    reader: AdminReader,
    query: CallLogFilterQuery,
    limit: number,
    cursor?: string,
  ): Promise<CallLogPage> {
    const details = { operation: 'list', filters: filtersOf(query), limit, cursor: cursor !== undefined };
    let page: CallLogPage;
    try {
      const filter = this.visibleFilter(reader.user, query);
      const before = cursor === undefined ? undefined : decodeCallLogCursor(cursor);
      if (before === null)
        throw new DomainError(ErrorCode.InvalidPayload, 'cursor is not valid', 'bad_cursor');
      // One extra row says whether another page exists, so the last page says null.
      const rows = await this.store.list(filter, limit + 1, before);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      page = { items, nextCursor: rows.length > limit ? encodeCallLogCursor(last) : null };
    } catch (error) {
      this.publish(reader, details, readFailureOf(error));
      throw error;
    }
    this.publish(reader, { ...details, returned: page.items.length });
    return page;
  }

  /** The store filter a reader may run: their organisation unless they are a platform admin. */
  private visibleFilter(user: HttpIdentity, query: CallLogFilterQuery): CallLogFilter {
    const orgId = readableOrgId(user, query.orgId);
    return {
      orgId,
      agentId: query.agentId,
      endReason: query.endReason,
      from: query.from === undefined ? undefined : epochMs(query.from),
      to: query.to === undefined ? undefined : epochMs(query.to),
    };
  }

  private publish(
    reader: AdminReader,
    details: Record<string, unknown>,
    failure?: { reason: string; code?: string },
  ): void {
    this.bus.publish(adminReadEvent('admin.call_log_read', reader, details, failure));
  }
}

/** The DTO accepted the value already; this only turns it into the stored form. */
function epochMs(value: string): number {
  const date = parseInstant(value);
  if (!date) throw new DomainError(ErrorCode.InvalidPayload, `not a date: ${value}`, 'bad_date');
  return date.getTime();
}

/** The filters as sent, for the read's own record (only those present). */
function filtersOf(query: CallLogFilterQuery): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of FILTER_KEYS) if (query[key] !== undefined) result[key] = query[key];
  return result;
}
