import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { AgentsFileDto, OrganizationDto, UserDto } from './agents-file.dto';
import type { DirectorySnapshot, DirectoryUser, Organization } from './directory.types';

/** Every problem of an agents file at once, so an operator fixes it in one pass. */
export class AgentsFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid agents file ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentsFileError';
  }
}

/** Reads, parses and validates AGENTS_FILE; any failure is an AgentsFileError naming the path. */
export function loadAgentsFile(path: string): DirectorySnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AgentsFileError(path, [`cannot be read: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AgentsFileError(path, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseAgentsFile(json, path);
}

/**
 * Validates an agents file (PROTOCOL §5) and applies its defaults. Field errors and cross-entry
 * errors (duplicates, dangling references) are collected together and thrown as one AgentsFileError
 * whose lines each name the entry, e.g. `users[3] (userId "u-x"): orgId "org_nope" does not exist`.
 */
export function parseAgentsFile(json: unknown, source: string): DirectorySnapshot {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AgentsFileError(source, ['must be a JSON object with "organizations" and "users" arrays']);
  }
  const dto = plainToInstance(AgentsFileDto, json);
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  const problems = [...describeErrors(errors, ''), ...crossCheck(dto)];
  if (problems.length > 0) throw new AgentsFileError(source, problems);
  return toSnapshot(dto);
}

function describeErrors(errors: readonly ValidationError[], parentPath: string): string[] {
  const problems: string[] = [];
  for (const error of errors) {
    const isIndex = /^\d+$/.test(error.property);
    const path = isIndex
      ? `${parentPath}[${error.property}]`
      : `${parentPath}${parentPath ? '.' : ''}${error.property}`;
    // The line names the entry holding the field (its id), the path stays plain for its children.
    const label = isIndex
      ? path
      : `${parentPath}${entryName(error.target)}${parentPath ? '.' : ''}${error.property}`;
    const lines = mainConstraints(error.constraints ?? {}).map(
      ([constraint, message]) => `${label}: ${explain(constraint, message, error.property)}`,
    );
    problems.push(...new Set(lines));
    // A value that is not an object has no fields worth describing (an array's items, say).
    const notAnObject = error.constraints?.isObject !== undefined;
    if (error.children?.length && !notAnObject) problems.push(...describeErrors(error.children, path));
  }
  return problems;
}

const TYPE_CONSTRAINTS = new Set([
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isArray',
  'isObject',
  'nestedValidation',
]);

/**
 * A value of the wrong type fails its range checks too; only the type error is worth reading. An
 * id that fails the id pattern needs no separate line about its length.
 */
function mainConstraints(constraints: Record<string, string>): Array<[string, string]> {
  const all = Object.entries(constraints);
  const typeErrors = all.filter(([constraint]) => TYPE_CONSTRAINTS.has(constraint));
  if (typeErrors.length > 0) return typeErrors;
  return 'matches' in constraints ? all.filter(([constraint]) => constraint !== 'isLength') : all;
}

/** Spellings of widget settings the widget does not read, and the key it reads instead. */
const WIDGET_KEY_HINTS: Readonly<Record<string, string>> = {
  triggerDelaySeconds: 'trigger_delay',
  triggerDelay: 'trigger_delay',
  autoHideDelaySeconds: 'auto_hide_delay',
  autoHideDelay: 'auto_hide_delay',
  showMinimizeButton: 'show_minimize_button',
  cobrowseEnabled: 'cobrowse_enabled',
  coBrowseEnabled: 'cobrowse_enabled',
};

function explain(constraint: string, message: string, property: string): string {
  if (constraint === 'whitelistValidation') {
    const hint = WIDGET_KEY_HINTS[property];
    return hint ? `unknown field (the widget reads "${hint}")` : 'unknown field';
  }
  if (constraint === 'nestedValidation') return 'must be an object';
  // class-validator messages start with the property name, which the path already shows.
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

/** ` (userId "…")` or ` (id "…")` for an entry that carries one, so a line names what it is about. */
function entryName(entry: unknown): string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return '';
  const { userId, id } = entry as { userId?: unknown; id?: unknown };
  if (typeof userId === 'string') return ` (userId "${userId}")`;
  if (typeof id === 'string') return ` (id "${id}")`;
  return '';
}

/** Object entries of a list that may not have passed validation (so cross-checks still run). */
function entries<T>(list: unknown): Array<[number, T]> {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item, i) => (typeof item === 'object' && item !== null ? [[i, item as T]] : []));
}

function crossCheck(dto: AgentsFileDto): string[] {
  const problems: string[] = [];
  const orgIds = new Set<string>();
  /** pool id → id of the organisation that owns it. */
  const poolOwners = new Map<string, string>();

  for (const [i, org] of entries<OrganizationDto>(dto.organizations)) {
    const label = `organizations[${i}]${entryName(org)}`;
    if (typeof org.id === 'string') {
      if (orgIds.has(org.id)) problems.push(`${label}: duplicate organization id "${org.id}"`);
      orgIds.add(org.id);
    }
    let defaults = 0;
    for (const [j, pool] of entries<{ id?: unknown; isDefault?: unknown }>(org.pools)) {
      if (typeof pool.id === 'string') {
        if (poolOwners.has(pool.id)) {
          problems.push(`organizations[${i}].pools[${j}]${entryName(pool)}: duplicate pool id "${pool.id}"`);
        } else if (typeof org.id === 'string') {
          poolOwners.set(pool.id, org.id);
        }
      }
      if (pool.isDefault === true) defaults += 1;
    }
    if (defaults > 1) problems.push(`${label}: ${defaults} default pools (at most one is allowed)`);
  }

  const orgsValid = Array.isArray(dto.organizations);
  const userIds = new Set<string>();
  const agentIds = new Set<string>();
  for (const [i, user] of entries<UserDto>(dto.users)) {
    const label = `users[${i}]${entryName(user)}`;
    if (typeof user.userId === 'string') {
      if (userIds.has(user.userId)) problems.push(`${label}: duplicate userId "${user.userId}"`);
      userIds.add(user.userId);
    }
    if (typeof user.agentId === 'string') {
      if (agentIds.has(user.agentId)) problems.push(`${label}: duplicate agentId "${user.agentId}"`);
      agentIds.add(user.agentId);
    }
    if (user.role === 'agent' && user.agentId == null) {
      problems.push(`${label}: agentId is required for role "agent"`);
    }
    if (typeof user.role === 'string' && user.role !== 'platform_admin' && user.orgId == null) {
      problems.push(`${label}: orgId is required for role "${user.role}"`);
    }
    if (orgsValid && typeof user.orgId === 'string' && !orgIds.has(user.orgId)) {
      problems.push(`${label}: orgId "${user.orgId}" does not exist`);
    }
    const memberOf = new Set<string>();
    for (const [j, membership] of entries<{ poolId?: unknown }>(user.pools)) {
      if (typeof membership.poolId !== 'string') continue;
      const where = `${label}.pools[${j}]`;
      if (memberOf.has(membership.poolId))
        problems.push(`${where}: pool "${membership.poolId}" is listed twice`);
      memberOf.add(membership.poolId);
      if (!orgsValid) continue;
      const owner = poolOwners.get(membership.poolId);
      if (owner === undefined) {
        problems.push(`${where}: poolId "${membership.poolId}" does not exist`);
      } else if (owner !== user.orgId) {
        problems.push(
          `${where}: pool "${membership.poolId}" belongs to organization "${owner}", not to the user's organization`,
        );
      }
    }
  }
  return problems;
}

function toSnapshot(dto: AgentsFileDto): DirectorySnapshot {
  const organizations = dto.organizations.map((org): Organization => ({
    id: org.id,
    name: org.name,
    status: org.status ?? 'active',
    rnaTimeoutSeconds: org.rnaTimeoutSeconds ?? 15,
    maxCallDurationMinutes: org.maxCallDurationMinutes ?? 120,
    widgetSettings: { ...org.widgetSettings },
    pools: (org.pools ?? []).map((pool) => ({
      id: pool.id,
      orgId: org.id,
      name: pool.name,
      isDefault: pool.isDefault ?? false,
      widgetSettings: { ...pool.widgetSettings },
      rules: (pool.rules ?? []).map((rule) => ({
        pathPattern: rule.pathPattern,
        domainPattern: rule.domainPattern ?? '*',
        priority: rule.priority,
      })),
    })),
  }));
  return { organizations, users: dto.users.map(toUser) };
}

function toUser(user: UserDto): DirectoryUser {
  return {
    userId: user.userId,
    agentId: user.agentId ?? null,
    orgId: user.orgId ?? null,
    role: user.role,
    displayName: user.displayName,
    avatarUrl: user.avatarUrl ?? null,
    waveVideoUrl: user.waveVideoUrl ?? null,
    introVideoUrl: user.introVideoUrl ?? null,
    connectVideoUrl: user.connectVideoUrl ?? null,
    loopVideoUrl: user.loopVideoUrl ?? null,
    active: user.active ?? true,
    pools: (user.pools ?? []).map((m) => ({ poolId: m.poolId, priorityRank: m.priorityRank })),
  };
}
