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

/** The values the existing widget understands for each of its settings (PROTOCOL §2.3). */
export const WIDGET_SIZES = ['small', 'medium', 'large'] as const;
export const WIDGET_POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'center'] as const;
export const WIDGET_DEVICES = ['all', 'desktop', 'mobile'] as const;
export const WIDGET_THEMES = ['light', 'dark', 'liquid-glass'] as const;

/**
 * Widget settings as an organisation or a pool sets them in AGENTS_FILE: any subset of the keys the
 * widget reads, spelled as it reads them (snake_case). Visitors always get a complete set.
 */
export interface WidgetSettingsOverrides {
  size?: (typeof WIDGET_SIZES)[number];
  position?: (typeof WIDGET_POSITIONS)[number];
  devices?: (typeof WIDGET_DEVICES)[number];
  /** Seconds before the widget shows itself. */
  trigger_delay?: number;
  /** Seconds before it hides again; null: never. */
  auto_hide_delay?: number | null;
  show_minimize_button?: boolean;
  theme?: (typeof WIDGET_THEMES)[number];
  cobrowse_enabled?: boolean;
}

export interface AgentPool {
  id: string;
  orgId: string;
  name: string;
  isDefault: boolean;
  rules: RoutingRule[];
  /** Overrides the organisation's settings for visitors routed to this pool. */
  widgetSettings: WidgetSettingsOverrides;
}

export type OrganizationStatus = 'active' | 'paused';

export interface Organization {
  id: string;
  name: string;
  status: OrganizationStatus;
  rnaTimeoutSeconds: number;
  maxCallDurationMinutes: number;
  widgetSettings: WidgetSettingsOverrides;
  pools: AgentPool[];
}

/** The whole directory, as read from the database or parsed from AGENTS_FILE. */
export interface DirectorySnapshot {
  organizations: Organization[];
  users: DirectoryUser[];
}
