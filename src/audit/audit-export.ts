import type { EventEmitter } from 'node:events';
import type { PublicAuditRecord } from './audit-query.service';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** PROTOCOL §7, in this order. */
export const CSV_COLUMNS = [
  'id',
  'occurredAt',
  'type',
  'outcome',
  'reason',
  'orgId',
  'userId',
  'agentId',
  'role',
  'ip',
  'userAgent',
  'socketId',
  'transport',
  'target',
  'details',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** What a spreadsheet would run as a formula (OWASP "CSV injection"), tab and CR included. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One RFC 4180 field. A cell a spreadsheet would evaluate is neutralised first with a leading `'`:
 * audit records carry attacker-chosen text (user agents, reasons, claimed ids).
 */
export function csvCell(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A record's cells, by column (unquoted, not neutralised). */
export function csvValues(record: PublicAuditRecord): Record<CsvColumn, string | undefined> {
  return {
    id: record.id,
    occurredAt: record.occurredAt,
    type: record.type,
    outcome: record.outcome,
    reason: record.reason,
    orgId: record.orgId,
    userId: record.actor.userId,
    agentId: record.actor.agentId,
    role: record.actor.role,
    ip: record.source.ip,
    userAgent: record.source.userAgent,
    socketId: record.source.socketId,
    transport: record.source.transport,
    target: record.target,
    details: record.details === undefined ? undefined : JSON.stringify(record.details),
  };
}

/** RFC 4180 lines end with CRLF. */
function csvLine(cells: readonly (string | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function csvRecordLine(record: PublicAuditRecord): string {
  const values = csvValues(record);
  return csvLine(CSV_COLUMNS.map((column) => values[column]));
}

export function ndjsonLine(record: PublicAuditRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * The export body, one chunk per page of records. The CSV header travels with the first page, so
 * nothing is written (and the status can still change) until the store has answered once.
 */
export async function* encodeExport(
  pages: AsyncIterable<readonly PublicAuditRecord[]>,
  format: ExportFormat,
): AsyncGenerator<string> {
  const encode = format === 'csv' ? csvRecordLine : ndjsonLine;
  let header = format === 'csv' ? csvLine(CSV_COLUMNS) : '';
  for await (const page of pages) {
    yield header + page.map(encode).join('');
    header = '';
  }
  if (header) yield header;
}

export function exportFilename(format: ExportFormat, nowMs: number): string {
  return `signalgate-audit-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}.${format}`;
}

/** The part of an HTTP response (or any writable) the streaming needs. */
export interface ExportSink extends EventEmitter {
  write(chunk: string): boolean;
  end(): unknown;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/**
 * Writes the chunks as they come, never more than one ahead of the client: when `write` says the
 * buffer is full, waits for `drain` before reading the next page from the store. Stops (and so
 * stops reading the store) when the client goes away. Resolves true once everything was written.
 */
export async function writeWithBackpressure(
  sink: ExportSink,
  chunks: AsyncIterable<string>,
): Promise<boolean> {
  for await (const chunk of chunks) {
    if (sink.destroyed || sink.writableEnded) return false;
    if (!sink.write(chunk) && !(await settled(sink, 'drain'))) return false;
  }
  if (sink.destroyed) return false;
  const finished = settled(sink, 'finish');
  sink.end();
  return finished;
}

/** True on `event`, false when the sink closes or fails first (or already has). */
function settled(sink: ExportSink, event: 'drain' | 'finish'): Promise<boolean> {
  if (sink.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (value: boolean) => () => {
      sink.off(event, onEvent);
      sink.off('close', onClose);
      sink.off('error', onClose);
      resolve(value);
    };
    const onEvent = settle(true);
    const onClose = settle(false);
    sink.once(event, onEvent);
    sink.once('close', onClose);
    sink.once('error', onClose);
  });
}
