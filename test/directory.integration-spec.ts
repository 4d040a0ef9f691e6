import { loadAgentsFile } from '../src/auth/directory/agents-file';
import { inCanonicalOrder } from '../src/auth/directory/directory.store';
import type { DirectorySnapshot, DirectoryUser, Organization } from '../src/auth/directory/directory.types';
import { KyselyDirectoryStore } from '../src/auth/directory/kysely-directory.store';
import { AGENTS_FILE } from './helpers/app';
import { onEachDatabase, OpenedDatabase, useDatabase } from './helpers/databases';

/**
 * The real KyselyDirectoryStore against SQLite (always) and Postgres (when DATABASE_URL is set, in
 * a fresh database created for the run and dropped afterwards): same statements, same results.
 */

const TABLES_CHILDREN_FIRST = [
  'pool_memberships',
  'routing_rules',
  'directory_users',
  'pools',
  'organizations',
  'agent_revocations',
];

function user(overrides: Partial<DirectoryUser> & Pick<DirectoryUser, 'userId'>): DirectoryUser {
  return {
    agentId: null,
    orgId: 'org_acme',
    role: 'agent',
    displayName: 'Someone',
    avatarUrl: null,
    waveVideoUrl: null,
    introVideoUrl: null,
    connectVideoUrl: null,
    loopVideoUrl: null,
    active: true,
    pools: [],
    ...overrides,
  };
}

function directoryStoreSuite(open: () => Promise<OpenedDatabase>): void {
  const example: DirectorySnapshot = loadAgentsFile(AGENTS_FILE);
  const opened = useDatabase(
    open,
    (database) => new KyselyDirectoryStore(database).migrate(),
    TABLES_CHILDREN_FIRST,
  );
  let store: KyselyDirectoryStore;
  beforeAll(() => {
    store = new KyselyDirectoryStore(opened().database);
  });

  it('migrates idempotently', async () => {
    await expect(store.migrate()).resolves.toBeUndefined();
    await expect(store.load()).resolves.toEqual({ organizations: [], users: [] });
    await expect(store.loadRevocations()).resolves.toEqual(new Map());
  });

  it('round-trips the example file exactly', async () => {
    await expect(store.upsert(example)).resolves.toEqual({
      organizations: example.organizations.length,
      users: example.users.length,
    });
    const loaded = await store.load();
    expect(loaded).toEqual(inCanonicalOrder(example));
    // Types survive the trip: integers as numbers, 0/1 as booleans, JSON as objects, nulls as null.
    const acme = loaded.organizations.find((o) => o.id === 'org_acme')!;
    expect(typeof acme.rnaTimeoutSeconds).toBe('number');
    expect(acme.widgetSettings).toEqual(example.organizations[0].widgetSettings);
    expect(loaded.users.find((u) => u.role === 'platform_admin')).toMatchObject({
      orgId: null,
      agentId: null,
    });
    expect(loaded.users.filter((u) => !u.active).map((u) => u.agentId)).toEqual(['agent_dan']);
  });

  it('is idempotent and applies updates, leaving entities absent from the file alone', async () => {
    await store.upsert(example);
    await store.upsert(example);
    expect(await store.load()).toEqual(inCanonicalOrder(example));

    const acme = example.organizations.find((o) => o.id === 'org_acme')!;
    const sales = acme.pools.find((p) => p.id === 'pool_acme_sales')!;
    const ann = example.users.find((u) => u.agentId === 'agent_ann')!;
    const updatedAcme: Organization = {
      ...acme,
      name: 'Acme Corp',
      status: 'paused',
      rnaTimeoutSeconds: 30,
      maxCallDurationMinutes: 45,
      widgetSettings: { position: 'top-left', cobrowse_enabled: false },
      // pool_acme_support is not in this file: it must keep its rules.
      pools: [
        {
          ...sales,
          name: 'Sales EU',
          isDefault: false,
          rules: [sales.rules[1]],
          widgetSettings: { theme: 'light', trigger_delay: 0 },
        },
      ],
    };
    const updatedAnn: DirectoryUser = {
      ...ann,
      displayName: 'Ann B.',
      avatarUrl: 'https://cdn.example/ann.png',
      active: false,
      pools: [{ poolId: 'pool_acme_support', priorityRank: 7 }],
    };
    const newcomer = user({
      userId: 'new-user',
      agentId: 'agent_new',
      pools: [{ poolId: 'pool_acme_sales', priorityRank: 1 }],
    });
    await expect(
      store.upsert({ organizations: [updatedAcme], users: [updatedAnn, newcomer] }),
    ).resolves.toEqual({ organizations: 1, users: 2 });

    const loaded = await store.load();
    const loadedAcme = loaded.organizations.find((o) => o.id === 'org_acme')!;
    expect(loadedAcme).toMatchObject({
      name: 'Acme Corp',
      status: 'paused',
      rnaTimeoutSeconds: 30,
      maxCallDurationMinutes: 45,
      widgetSettings: { position: 'top-left', cobrowse_enabled: false },
    });
    expect(loadedAcme.pools.find((p) => p.id === 'pool_acme_sales')).toEqual({
      id: 'pool_acme_sales',
      orgId: 'org_acme',
      name: 'Sales EU',
      isDefault: false,
      rules: [sales.rules[1]],
      widgetSettings: { theme: 'light', trigger_delay: 0 },
    });
    expect(loadedAcme.pools.find((p) => p.id === 'pool_acme_support')).toEqual(
      acme.pools.find((p) => p.id === 'pool_acme_support'),
    );
    expect(loaded.users.find((u) => u.userId === ann.userId)).toEqual(updatedAnn);
    expect(loaded.users.find((u) => u.userId === 'new-user')).toEqual(newcomer);
    // Everyone and everything else is untouched.
    expect(loaded.users).toHaveLength(example.users.length + 1);
    for (const other of example.users.filter((u) => u.userId !== ann.userId)) {
      expect(loaded.users.find((u) => u.userId === other.userId)).toEqual(
        inCanonicalOrder({ organizations: [], users: [other] }).users[0],
      );
    }
    expect(loaded.organizations.filter((o) => o.id !== 'org_acme')).toEqual(
      inCanonicalOrder(example).organizations.filter((o) => o.id !== 'org_acme'),
    );
  });

  it('keeps rules in file order beyond ten rules', async () => {
    const rules = Array.from({ length: 12 }, (_, i) => ({
      pathPattern: `/p${i}/**`,
      domainPattern: '*',
      priority: 12 - i,
    }));
    const org: Organization = {
      id: 'org_many',
      name: 'Many',
      status: 'active',
      rnaTimeoutSeconds: 15,
      maxCallDurationMinutes: 120,
      widgetSettings: {},
      pools: [
        {
          id: 'pool:with:colons',
          orgId: 'org_many',
          name: 'Many',
          isDefault: true,
          rules,
          widgetSettings: {},
        },
      ],
    };
    await store.upsert({ organizations: [org], users: [] });
    expect((await store.load()).organizations[0].pools[0].rules).toEqual(rules);
  });

  it('writes all or nothing', async () => {
    await store.upsert(example);
    const acme = example.organizations.find((o) => o.id === 'org_acme')!;
    const broken: DirectorySnapshot = {
      organizations: [{ ...acme, name: 'Renamed' }],
      // The pool does not exist: the foreign key fails after the organisation was written.
      users: [
        user({
          userId: 'u-broken',
          agentId: 'agent_broken',
          pools: [{ poolId: 'pool_nope', priorityRank: 1 }],
        }),
      ],
    };
    // Not `rejects.toThrow()`: better-sqlite3's native addon keeps the error class of the first test
    // file that loaded it, so in a shared worker its errors are not instances of this file's Error.
    const failure: unknown = await store.upsert(broken).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(String((failure as { message?: unknown }).message)).toMatch(/foreign key/i);
    expect(await store.load()).toEqual(inCanonicalOrder(example));
  });

  it('writes large directories in batches', async () => {
    const org: Organization = {
      id: 'org_big',
      name: 'Big',
      status: 'active',
      rnaTimeoutSeconds: 15,
      maxCallDurationMinutes: 120,
      widgetSettings: {},
      pools: [
        { id: 'pool_big', orgId: 'org_big', name: 'Big', isDefault: true, rules: [], widgetSettings: {} },
      ],
    };
    const users = Array.from({ length: 1_200 }, (_, i) =>
      user({
        userId: `u-${String(i).padStart(4, '0')}`,
        agentId: `agent_${i}`,
        orgId: 'org_big',
        pools: [{ poolId: 'pool_big', priorityRank: 1 + (i % 5) }],
      }),
    );
    await expect(store.upsert({ organizations: [org], users })).resolves.toEqual({
      organizations: 1,
      users: 1_200,
    });
    const loaded = await store.load();
    expect(loaded.users).toEqual(users);
  });

  it('deactivates active users missing from a keep list, and only those', async () => {
    await store.upsert(example);
    const keep = example.users.filter((u) => u.agentId !== 'agent_ann').map((u) => u.userId);
    const ann = example.users.find((u) => u.agentId === 'agent_ann')!;
    expect(await store.deactivateUsersNotIn(keep)).toEqual([ann.userId]);
    const loaded = await store.load();
    expect(loaded.users.find((u) => u.userId === ann.userId)?.active).toBe(false);
    const stillActive = example.users.filter((u) => u.active && u.userId !== ann.userId).length;
    expect(loaded.users.filter((u) => u.active)).toHaveLength(stillActive);
    // Idempotent: already inactive users are not reported again.
    expect(await store.deactivateUsersNotIn(keep)).toEqual([]);
  });

  it('stores revocations as epoch seconds beyond 32 bits, keeping the latest', async () => {
    const year2100 = 4_102_444_800;
    await store.saveRevocation('agent_ann', 1_700_000_000);
    await store.saveRevocation('agent_ann', 1_600_000_000);
    await store.saveRevocation('agent_bob', year2100);
    expect(await store.loadRevocations()).toEqual(
      new Map([
        ['agent_ann', 1_700_000_000],
        ['agent_bob', year2100],
      ]),
    );
    await store.saveRevocation('agent_ann', 1_800_000_000);
    const revocations = await store.loadRevocations();
    expect(revocations.get('agent_ann')).toBe(1_800_000_000);
    expect(typeof revocations.get('agent_bob')).toBe('number');
  });
}

onEachDatabase('KyselyDirectoryStore', directoryStoreSuite);
