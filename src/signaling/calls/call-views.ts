import type { CallLogEntry } from '../../call-log/call-log';
import type { CallRequestView, CallView, VisitorView } from '../protocol';
import type { VisitorRecord } from '../visitors/visitor.types';
import type { CallRecord, CallRequestRecord } from './call.types';

/** What the wire and the call log see of requests, visitors and calls (PROTOCOL §2.3). */

export function requestView(request: CallRequestRecord, agentId: string): CallRequestView {
  return {
    requestId: request.requestId,
    visitorId: request.visitorId,
    agentId,
    orgId: request.orgId,
    pageUrl: request.pageUrl,
    requestedAt: request.requestedAt,
  };
}

/** No geolocation source exists yet: `location` is null, and always present (PROTOCOL §2.3). */
export function visitorView(visitor: VisitorRecord): VisitorView {
  return {
    visitorId: visitor.visitorId,
    pageUrl: visitor.pageUrl,
    connectedAt: visitor.connectedAt,
    location: null,
  };
}

export function callView(call: CallRecord): CallView {
  return {
    callId: call.callId,
    callLogId: call.callLogId,
    visitorId: call.visitorId,
    agentId: call.agentId,
    startedAt: call.startedAt,
    endedAt: null,
  };
}

export function logEntry(call: CallRecord): CallLogEntry {
  return {
    callLogId: call.callLogId,
    callId: call.callId,
    orgId: call.orgId,
    agentId: call.agentId,
    visitorId: call.visitorId,
    pageUrl: call.pageUrl,
    requestedAt: call.requestedAt,
    startedAt: call.startedAt,
  };
}
