import type { AgentDirectory } from '../../auth/directory/agent-directory.service';
import type { Organization } from '../../auth/directory/directory.types';
import { deadlineKey } from '../../common/scheduler.service';
import type { CallRole } from './call.types';

/**
 * The call's deadlines (they fire once cluster-wide, wherever they were set). Each kind's handler
 * is defined by the service that owns it: ring-no-answer by CallRequests, the reconnect hold by
 * CallReconnects, the maximum duration by LiveCalls (which also cancels a call's reconnect holds
 * when it ends).
 */
export const RNA = 'call:rna';
export const RECONNECT = 'call:reconnect';
export const MAX_DURATION = 'call:max-duration';

export interface RingDeadline {
  requestId: string;
  agentId: string;
  seq: number;
}

export interface ReconnectDeadline {
  callId: string;
  role: CallRole;
  at: number;
}

export interface CallDeadline {
  callId: string;
}

export const rnaKey = (requestId: string): string => deadlineKey(RNA, requestId);
export const maxDurationKey = (callId: string): string => deadlineKey(MAX_DURATION, callId);
export const reconnectKey = (callId: string, role: CallRole): string =>
  deadlineKey(RECONNECT, `${callId}:${role}`);

/**
 * The organisation whose settings time a deadline. Directory entries never disappear while the
 * process runs; a missing one is a bug, said loudly.
 */
export function organizationOf(directory: AgentDirectory, orgId: string): Organization {
  const organization = directory.getOrganization(orgId);
  if (!organization) throw new Error(`organization ${orgId} is not in the directory`);
  return organization;
}
