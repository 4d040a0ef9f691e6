import type { CallEndReason } from '../signaling/protocol';

export interface CallLogEntry {
  callLogId: string;
  callId: string;
  orgId: string;
  agentId: string;
  visitorId: string;
  pageUrl: string;
  /** Epoch milliseconds. */
  requestedAt: number;
  startedAt: number;
}

export interface CallLogEnd {
  endedAt: number;
  endReason: CallEndReason;
}

/** Where calls are logged. Never throws and never waits on the database: rows are queued. */
export abstract class CallLog {
  /** A call started (call:accept won): its row, without an end. */
  abstract started(entry: CallLogEntry): void;

  /** The call ended: the whole row again with its end (rows are upserted, so replays are idempotent). */
  abstract ended(entry: CallLogEntry & CallLogEnd): void;
}
