/** Role hierarchy of DESIGN §3: each role includes the ones before it. */
export const ROLES = ['agent', 'auditor', 'admin', 'platform_admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export interface PoolMembership {
  poolId: string;
  priorityRank: number;
}

/** A user of the directory (`userId` = the JWT `sub`). Admin-only users have no `agentId`. */
export interface DirectoryUser {
  userId: string;
  agentId: string | null;
  /** null only for platform admins. */
  orgId: string | null;
  role: Role;
  displayName: string;
  avatarUrl: string | null;
  waveVideoUrl: string | null;
  introVideoUrl: string | null;
  connectVideoUrl: string | null;
  loopVideoUrl: string | null;
  active: boolean;
  pools: PoolMembership[];
}

export interface RoutingRule {
  pathPattern: string;
  domainPattern: string;
  priority: number;
}

export interface AgentPool {
  id: string;
  orgId: string;
  name: string;
  isDefault: boolean;
  rules: RoutingRule[];
}

export type OrganizationStatus = 'active' | 'paused';

export interface Organization {
  id: string;
  name: string;
  status: OrganizationStatus;
  rnaTimeoutSeconds: number;
  maxCallDurationMinutes: number;
  widgetSettings: Record<string, unknown>;
  pools: AgentPool[];
}

/** The whole directory, as read from the database or parsed from AGENTS_FILE. */
export interface DirectorySnapshot {
  organizations: Organization[];
  users: DirectoryUser[];
}
