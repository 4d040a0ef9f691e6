import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityEvent } from '../../common/security/security-event';
import { SecurityEventBus } from '../../common/security/security-event-bus.service';
import { AppConfig, validateEnvironment } from '../../config/app-config';
import { AgentDirectory } from './agent-directory.service';
import { AgentsFileError, loadAgentsFile } from './agents-file';
import type { DirectorySnapshot, DirectoryUser } from './directory.types';
import { InMemoryDirectoryStore } from './in-memory-directory.store';
import { RevocationFeed, RevocationListener } from './revocation-feed';

const EXAMPLE = join(__dirname, '../../../config/agents.example.json');

function configWith(agentsFile: string | null): AppConfig {
  return new AppConfig({ ...validateEnvironment({ NODE_ENV: 'test' }), agentsFile });
}

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

/** A feed that records what is published and lets a test play the other instances. */
class RecordingFeed extends RevocationFeed {
  readonly published: [string, number][] = [];
  failing = false;
  private listener: RevocationListener | null = null;

  publish(agentId: string, atSec: number): Promise<void> {
    if (this.failing) return Promise.reject(new Error('redis down'));
    this.published.push([agentId, atSec]);
    return Promise.resolve();
  }

  listen(listener: RevocationListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }

  hear(agentId: string, atSec: number): void {
    this.listener?.revoked(agentId, atSec);
  }

  resync(): Promise<void> {
    return this.listener?.resync() ?? Promise.resolve();
  }
}

describe('AgentDirectory', () => {
  const example: DirectorySnapshot = loadAgentsFile(EXAMPLE);
  const ann = example.users.find((u) => u.agentId === 'agent_ann')!;
  let store: InMemoryDirectoryStore;
  let bus: SecurityEventBus;
  let feed: RecordingFeed;
  let published: SecurityEvent[];

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = new InMemoryDirectoryStore();
    feed = new RecordingFeed();
    bus = new SecurityEventBus();
    published = [];
    bus.subscribe((event) => published.push(event));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  async function init(agentsFile: string | null = EXAMPLE): Promise<AgentDirectory> {
    const directory = new AgentDirectory(store, configWith(agentsFile), bus, feed);
    await directory.onModuleInit();
    return directory;
  }

  it('migrates, seeds the store from AGENTS_FILE and logs the counts', async () => {
    const migrate = jest.spyOn(store, 'migrate');
    const log = jest.spyOn(Logger.prototype, 'log');
    await init();
    expect(migrate).toHaveBeenCalledTimes(1);
    expect((await store.load()).users).toHaveLength(example.users.length);
    expect(log).toHaveBeenCalledWith(
      `directory seeded from ${EXAMPLE}: ${example.organizations.length} organizations, ${example.users.length} users`,
    );
  });

  it('deactivates, names and publishes users that are no longer in AGENTS_FILE', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await store.upsert({ organizations: [], users: [user({ userId: 'gone-1', agentId: 'agent_gone' })] });
    const directory = await init();
    expect(directory.findByAgentId('agent_gone')?.active).toBe(false);
    expect(directory.findByAgentId('agent_ann')?.active).toBe(true);
    expect(warn).toHaveBeenCalledWith('deactivated 1 user(s) no longer in AGENTS_FILE: gone-1');
    expect(published).toContainEqual(
      expect.objectContaining({
        type: 'config.warning',
        reason: 'users_deactivated',
        details: { userIds: ['gone-1'] },
      }),
    );
    // A second boot with the same file changes nothing and says nothing.
    warn.mockClear();
    published.length = 0;
    await init();
    expect(warn).not.toHaveBeenCalled();
    expect(published).toEqual([]);
  });

  it('answers lookups by userId, agentId and organisation from memory', async () => {
    const directory = await init();
    const load = jest.spyOn(store, 'load');

    expect(directory.findByUserId(ann.userId)).toEqual(ann);
    expect(directory.findByAgentId('agent_ann')).toEqual(ann);
    expect(directory.findByUserId('nobody')).toBeUndefined();
    expect(directory.findByAgentId('agent_nobody')).toBeUndefined();
    expect(directory.getOrganization('org_paused')?.status).toBe('paused');
    expect(directory.getOrganization('org_acme')?.pools.map((p) => p.id)).toEqual([
      'pool_acme_sales',
      'pool_acme_support',
    ]);
    expect(directory.getOrganization('org_nope')).toBeUndefined();
    expect(directory.listOrganizations().map((o) => o.id)).toEqual(['org_acme', 'org_globex', 'org_paused']);
    expect(load).not.toHaveBeenCalled();
  });

  it('finds disabled users and platform admins too (callers decide what they may do)', async () => {
    const directory = await init();
    const disabled = example.users.find((u) => !u.active)!;
    const platformAdmin = example.users.find((u) => u.role === 'platform_admin')!;
    expect(directory.findByUserId(disabled.userId)?.active).toBe(false);
    expect(directory.findByUserId(platformAdmin.userId)).toMatchObject({ orgId: null, agentId: null });
  });

  it('starts empty without AGENTS_FILE, and serves what the store holds', async () => {
    const empty = await init(null);
    expect(empty.listOrganizations()).toEqual([]);

    await store.upsert(example);
    const seeded = await init(null);
    expect(seeded.findByAgentId('agent_ann')?.userId).toBe(ann.userId);
  });

  it('updates entries from the file and keeps (inactive) the ones it no longer lists', async () => {
    const extra = user({ userId: 'added-earlier', agentId: 'agent_extra', displayName: 'Extra' });
    await store.upsert({ organizations: [], users: [extra, { ...ann, displayName: 'Old name' }] });

    const directory = await init();
    expect(directory.findByUserId('added-earlier')).toEqual({ ...extra, active: false });
    expect(directory.findByUserId(ann.userId)?.displayName).toBe(ann.displayName);
  });

  it('refuses to start on an invalid file and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-directory-'));
    try {
      const file = join(dir, 'agents.json');
      writeFileSync(file, JSON.stringify({ organizations: [], users: [{ userId: 'u', role: 'agent' }] }));
      await expect(init(file)).rejects.toBeInstanceOf(AgentsFileError);
      expect((await store.load()).users).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refresh() picks up changes made in the store', async () => {
    const directory = await init();
    await store.upsert({ organizations: [], users: [{ ...ann, active: false }] });
    expect(directory.findByUserId(ann.userId)?.active).toBe(true);
    await directory.refresh();
    expect(directory.findByUserId(ann.userId)?.active).toBe(false);
    expect(directory.findByAgentId('agent_ann')?.active).toBe(false);
  });

  describe('revocations', () => {
    it('persists a revocation and answers from memory, keeping the latest time', async () => {
      const directory = await init();
      expect(directory.revokedAt('agent_ann')).toBeUndefined();

      await directory.revoke('agent_ann', 2_000);
      await directory.revoke('agent_ann', 1_000);
      expect(directory.revokedAt('agent_ann')).toBe(2_000);
      expect((await store.loadRevocations()).get('agent_ann')).toBe(2_000);

      await directory.revoke('agent_ann', 3_000);
      expect(directory.revokedAt('agent_ann')).toBe(3_000);
    });

    it('loads stored revocations at init', async () => {
      await store.saveRevocation('agent_bob', 1_700_000_000);
      const directory = await init();
      expect(directory.revokedAt('agent_bob')).toBe(1_700_000_000);
    });

    it('tells the feed of every revocation, after storing it', async () => {
      const directory = await init();
      const saved = jest.spyOn(store, 'saveRevocation');
      expect(await directory.revoke('agent_ann', 2_000)).toBe(true);
      expect(saved).toHaveBeenCalledWith('agent_ann', 2_000);
      expect(feed.published).toEqual([['agent_ann', 2_000]]);
    });

    it('applies a revocation heard from another instance at once, never lowering a time', async () => {
      const directory = await init();
      feed.hear('agent_bob', 4_000);
      expect(directory.revokedAt('agent_bob')).toBe(4_000);
      feed.hear('agent_bob', 3_000);
      expect(directory.revokedAt('agent_bob')).toBe(4_000);
    });

    it('reloads the revocations when the feed may have missed some', async () => {
      const directory = await init();
      await store.saveRevocation('agent_bob', 6_000);
      expect(directory.revokedAt('agent_bob')).toBeUndefined();
      await feed.resync();
      expect(directory.revokedAt('agent_bob')).toBe(6_000);
    });

    it('keeps a revocation in force here when the others could not be told, and says so', async () => {
      const directory = await init();
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      feed.failing = true;
      expect(await directory.revoke('agent_ann', 2_000)).toBe(false);
      expect(directory.revokedAt('agent_ann')).toBe(2_000);
      expect((await store.loadRevocations()).get('agent_ann')).toBe(2_000);
    });

    it('does not lose a revocation made while a refresh is loading', async () => {
      const directory = await init();
      // The refresh reads the revocations before the revoke is saved, and finishes after it.
      const refreshing = directory.refresh();
      await directory.revoke('agent_ann', 5_000);
      await refreshing;
      expect(directory.revokedAt('agent_ann')).toBe(5_000);
    });
  });
});
