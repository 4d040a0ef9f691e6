import { Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { DatabaseService } from '../../common/database/database.service';
import { directoryMigrations } from './directory.migrations';
import { DirectoryStore, inCanonicalOrder } from './directory.store';
import type {
  AgentPool,
  DirectorySnapshot,
  DirectoryUser,
  Organization,
  Role,
  RoutingRule,
  WidgetSettingsOverrides,
} from './directory.types';

interface DirectoryTables {
  organizations: {
    id: string;
    name: string;
    status: string;
    rna_timeout_seconds: number;
    max_call_duration_minutes: number;
    widget_settings: string;
  };
  pools: { id: string; org_id: string; name: string; is_default: number; widget_settings: string };
  routing_rules: {
    id: string;
    pool_id: string;
    path_pattern: string;
    domain_pattern: string;
    priority: number;
  };
  directory_users: {
    user_id: string;
    agent_id: string | null;
    org_id: string | null;
    role: string;
    display_name: string;
    avatar_url: string | null;
    wave_video_url: string | null;
    intro_video_url: string | null;
    connect_video_url: string | null;
    loop_video_url: string | null;
    active: number;
  };
  pool_memberships: { user_id: string; pool_id: string; priority_rank: number };
  // pg returns bigint columns as strings.
  agent_revocations: { agent_id: string; revoked_at: number | string };
}

/**
 * Rows per multi-row statement: well under SQLite's 32,766 and Postgres's 65,535 bound
 * parameters for the widest table (11 columns).
 */
const BATCH = 500;

/** The directory over Kysely: the same statements on SQLite and Postgres. */
@Injectable()
export class KyselyDirectoryStore extends DirectoryStore {
  private readonly db: Kysely<DirectoryTables>;

  constructor(private readonly database: DatabaseService) {
    super();
    this.db = database.db as Kysely<DirectoryTables>;
  }

  migrate(): Promise<void> {
    return this.database.migrate('directory', directoryMigrations);
  }

  async upsert(snapshot: DirectorySnapshot): Promise<{ organizations: number; users: number }> {
    const orgRows = snapshot.organizations.map((org) => ({
      id: org.id,
      name: org.name,
      status: org.status,
      rna_timeout_seconds: org.rnaTimeoutSeconds,
      max_call_duration_minutes: org.maxCallDurationMinutes,
      widget_settings: JSON.stringify(org.widgetSettings),
    }));
    const pools = snapshot.organizations.flatMap((org) =>
      org.pools.map((pool) => ({ ...pool, orgId: org.id })),
    );
    const poolRows = pools.map((pool) => ({
      id: pool.id,
      org_id: pool.orgId,
      name: pool.name,
      is_default: pool.isDefault ? 1 : 0,
      widget_settings: JSON.stringify(pool.widgetSettings),
    }));
    const ruleRows = pools.flatMap((pool) =>
      pool.rules.map((rule, index) => ({
        id: ruleId(pool.id, index),
        pool_id: pool.id,
        path_pattern: rule.pathPattern,
        domain_pattern: rule.domainPattern,
        priority: rule.priority,
      })),
    );
    const userRows = snapshot.users.map((user) => ({
      user_id: user.userId,
      agent_id: user.agentId,
      org_id: user.orgId,
      role: user.role,
      display_name: user.displayName,
      avatar_url: user.avatarUrl,
      wave_video_url: user.waveVideoUrl,
      intro_video_url: user.introVideoUrl,
      connect_video_url: user.connectVideoUrl,
      loop_video_url: user.loopVideoUrl,
      active: user.active ? 1 : 0,
    }));
    const membershipRows = snapshot.users.flatMap((user) =>
      user.pools.map((m) => ({ user_id: user.userId, pool_id: m.poolId, priority_rank: m.priorityRank })),
    );

    // Parents before children, so foreign keys hold at every statement.
    await this.db.transaction().execute(async (trx) => {
      for (const rows of chunks(orgRows)) {
        await trx
          .insertInto('organizations')
          .values(rows)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              status: eb.ref('excluded.status'),
              rna_timeout_seconds: eb.ref('excluded.rna_timeout_seconds'),
              max_call_duration_minutes: eb.ref('excluded.max_call_duration_minutes'),
              widget_settings: eb.ref('excluded.widget_settings'),
            })),
          )
          .execute();
      }
      for (const rows of chunks(poolRows)) {
        await trx
          .insertInto('pools')
          .values(rows)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              org_id: eb.ref('excluded.org_id'),
              name: eb.ref('excluded.name'),
              is_default: eb.ref('excluded.is_default'),
              widget_settings: eb.ref('excluded.widget_settings'),
            })),
          )
          .execute();
      }
      for (const ids of chunks(poolRows.map((pool) => pool.id))) {
        await trx.deleteFrom('routing_rules').where('pool_id', 'in', ids).execute();
      }
      for (const rows of chunks(ruleRows)) {
        await trx.insertInto('routing_rules').values(rows).execute();
      }
      for (const rows of chunks(userRows)) {
        await trx
          .insertInto('directory_users')
          .values(rows)
          .onConflict((oc) =>
            oc.column('user_id').doUpdateSet((eb) => ({
              agent_id: eb.ref('excluded.agent_id'),
              org_id: eb.ref('excluded.org_id'),
              role: eb.ref('excluded.role'),
              display_name: eb.ref('excluded.display_name'),
              avatar_url: eb.ref('excluded.avatar_url'),
              wave_video_url: eb.ref('excluded.wave_video_url'),
              intro_video_url: eb.ref('excluded.intro_video_url'),
              connect_video_url: eb.ref('excluded.connect_video_url'),
              loop_video_url: eb.ref('excluded.loop_video_url'),
              active: eb.ref('excluded.active'),
            })),
          )
          .execute();
      }
      for (const ids of chunks(userRows.map((user) => user.user_id))) {
        await trx.deleteFrom('pool_memberships').where('user_id', 'in', ids).execute();
      }
      for (const rows of chunks(membershipRows)) {
        await trx.insertInto('pool_memberships').values(rows).execute();
      }
    });
    return { organizations: orgRows.length, users: userRows.length };
  }

  async deactivateUsersNotIn(keepUserIds: readonly string[]): Promise<string[]> {
    // Read then update in one transaction; the directory is small and the keep list may exceed a
    // statement's parameter limit, so the comparison happens here rather than in a NOT IN (...).
    const keep = new Set(keepUserIds);
    return this.db.transaction().execute(async (trx) => {
      const active = await trx
        .selectFrom('directory_users')
        .select('user_id')
        .where('active', '=', 1)
        .execute();
      const stale = active.map((row) => row.user_id).filter((id) => !keep.has(id));
      for (const ids of chunks(stale)) {
        await trx.updateTable('directory_users').set({ active: 0 }).where('user_id', 'in', ids).execute();
      }
      return stale.sort();
    });
  }

  async load(): Promise<DirectorySnapshot> {
    // One repeatable-read transaction, so a concurrent upsert is seen entirely or not at all.
    const rows = await this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => ({
        orgs: await trx.selectFrom('organizations').selectAll().execute(),
        pools: await trx.selectFrom('pools').selectAll().execute(),
        rules: await trx.selectFrom('routing_rules').selectAll().execute(),
        users: await trx.selectFrom('directory_users').selectAll().execute(),
        memberships: await trx.selectFrom('pool_memberships').selectAll().execute(),
      }));

    const rulesByPool = groupBy(
      [...rows.rules].sort((a, b) => ruleIndex(a.id) - ruleIndex(b.id)),
      (rule) => rule.pool_id,
    );
    const poolsByOrg = groupBy(
      rows.pools.map((pool): AgentPool => ({
        id: pool.id,
        orgId: pool.org_id,
        name: pool.name,
        isDefault: Number(pool.is_default) === 1,
        widgetSettings: JSON.parse(pool.widget_settings) as WidgetSettingsOverrides,
        rules: (rulesByPool.get(pool.id) ?? []).map((rule): RoutingRule => ({
          pathPattern: rule.path_pattern,
          domainPattern: rule.domain_pattern,
          priority: Number(rule.priority),
        })),
      })),
      (pool) => pool.orgId,
    );
    const membershipsByUser = groupBy(rows.memberships, (m) => m.user_id);

    const organizations = rows.orgs.map((org): Organization => ({
      id: org.id,
      name: org.name,
      status: org.status === 'paused' ? 'paused' : 'active',
      rnaTimeoutSeconds: Number(org.rna_timeout_seconds),
      maxCallDurationMinutes: Number(org.max_call_duration_minutes),
      widgetSettings: JSON.parse(org.widget_settings) as WidgetSettingsOverrides,
      pools: poolsByOrg.get(org.id) ?? [],
    }));
    const users = rows.users.map((user): DirectoryUser => ({
      userId: user.user_id,
      agentId: user.agent_id,
      orgId: user.org_id,
      role: user.role as Role,
      displayName: user.display_name,
      avatarUrl: user.avatar_url,
      waveVideoUrl: user.wave_video_url,
      introVideoUrl: user.intro_video_url,
      connectVideoUrl: user.connect_video_url,
      loopVideoUrl: user.loop_video_url,
      active: Number(user.active) === 1,
      pools: (membershipsByUser.get(user.user_id) ?? []).map((m) => ({
        poolId: m.pool_id,
        priorityRank: Number(m.priority_rank),
      })),
    }));
    return inCanonicalOrder({ organizations, users });
  }

  async saveRevocation(agentId: string, revokedAtSec: number): Promise<void> {
    // One statement, so concurrent revocations cannot lower the stored time: the update applies
    // only when the new time is later (ON CONFLICT ... DO UPDATE ... WHERE, same in both dialects).
    await this.db
      .insertInto('agent_revocations')
      .values({ agent_id: agentId, revoked_at: revokedAtSec })
      .onConflict((oc) =>
        oc
          .column('agent_id')
          .doUpdateSet({ revoked_at: (eb) => eb.ref('excluded.revoked_at') })
          .whereRef('agent_revocations.revoked_at', '<', 'excluded.revoked_at'),
      )
      .execute();
  }

  async loadRevocations(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('agent_revocations').selectAll().execute();
    return new Map(rows.map((row) => [row.agent_id, Number(row.revoked_at)]));
  }
}

/** Rules keep their file order through their id; pool ids may contain ':', so split on the last one. */
function ruleId(poolId: string, index: number): string {
  return `${poolId}:${index}`;
}

function ruleIndex(id: string): number {
  return Number(id.slice(id.lastIndexOf(':') + 1));
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) result.push(items.slice(i, i + BATCH));
  return result;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
