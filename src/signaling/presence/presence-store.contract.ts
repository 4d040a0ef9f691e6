import type { AgentProfile } from '../protocol';
import { PresenceStore } from './presence.store';
import type { AgentPresence, AttachInput } from './presence.types';

/** A store under test, and how to throw it away. */
export interface PresenceStoreUnderTest {
  store: PresenceStore;
  dispose(): Promise<void>;
}

/** An epoch instant: the contract's numbers are as large as real ones. */
const T0 = 1_733_570_000_000;
const GRACE = 30_000;

function profile(agentId: string, displayName = `Agent ${agentId}`): AgentProfile {
  return {
    id: agentId,
    displayName,
    avatarUrl: null,
    waveVideoUrl: `https://cdn.example/${agentId}/wave.mp4`,
    introVideoUrl: null,
    connectVideoUrl: null,
    loopVideoUrl: null,
  };
}

function attachInput(agentId: string, socketId: string, now: number, overrides: Partial<AttachInput> = {}) {
  return {
    agentId,
    userId: `user_${agentId}`,
    orgId: 'org_one',
    profile: profile(agentId),
    pools: ['pool_sales'],
    socketId,
    now,
    resumeSince: now - GRACE,
    ...overrides,
  } satisfies AttachInput;
}

/**
 * The behaviour every PresenceStore implementation shares (DESIGN §4), declared as `describe`/`it`
 * blocks: each test gets a fresh store from `make` and disposes of it afterwards.
 */
export function presenceStoreContract(make: () => Promise<PresenceStoreUnderTest>): void {
  let store: PresenceStore;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ store, dispose } = await make());
  });

  afterEach(async () => {
    await dispose();
  });

  async function attached(agentId: string, socketId = `socket_${agentId}`, now = T0, overrides = {}) {
    return (await store.attach(attachInput(agentId, socketId, now, overrides))).presence;
  }

  /** An agent connected and idle since `now`. */
  async function idle(agentId: string, now = T0, overrides: Partial<AttachInput> = {}) {
    await attached(agentId, `socket_${agentId}`, now, overrides);
    return (await store.setStatus(agentId, 'idle', now))!;
  }

  /** An agent whose last socket left at `now`. */
  async function disconnected(agentId: string, now: number) {
    await attached(agentId, `socket_${agentId}`, now - 1_000);
    return (await store.detach(agentId, `socket_${agentId}`, now))!;
  }

  const ids = (presences: AgentPresence[]) => presences.map((p) => p.agentId);

  describe('attach', () => {
    it('creates an away presence with the one socket', async () => {
      const result = await store.attach(attachInput('agent_a', 'socket_1', T0));
      const expected: AgentPresence = {
        agentId: 'agent_a',
        userId: 'user_agent_a',
        orgId: 'org_one',
        profile: profile('agent_a'),
        pools: ['pool_sales'],
        status: 'away',
        socketIds: ['socket_1'],
        currentCallVisitorId: null,
        connectedAt: T0,
        lastActivityAt: T0,
        disconnectedAt: null,
      };
      expect(result).toEqual({ presence: expected, resumed: false });
      expect(await store.get('agent_a')).toEqual(expected);
      expect(await store.list()).toEqual([expected]);
    });

    it('another socket joins the presence: status kept, activity, profile and pools refreshed', async () => {
      await idle('agent_a', T0);
      const result = await store.attach(
        attachInput('agent_a', 'socket_2', T0 + 500, {
          profile: profile('agent_a', 'Renamed'),
          pools: ['pool_sales', 'pool_support'],
        }),
      );
      expect(result.resumed).toBe(false);
      expect(result.presence).toMatchObject({
        status: 'idle',
        socketIds: ['socket_agent_a', 'socket_2'],
        connectedAt: T0,
        lastActivityAt: T0 + 500,
        profile: profile('agent_a', 'Renamed'),
        pools: ['pool_sales', 'pool_support'],
      });
      expect(await store.get('agent_a')).toEqual(result.presence);
    });

    it('the same socket attached twice is listed once', async () => {
      await attached('agent_a', 'socket_1', T0);
      const again = await attached('agent_a', 'socket_1', T0 + 1);
      expect(again.socketIds).toEqual(['socket_1']);
    });

    it('keeps empty pools as an empty list', async () => {
      const presence = await attached('agent_a', 'socket_1', T0, { pools: [] });
      expect(presence.pools).toEqual([]);
      expect((await store.get('agent_a'))!.pools).toEqual([]);
    });

    it('resumes a presence within the grace: status and call kept, the new socket alone', async () => {
      await idle('agent_a', T0);
      await store.enterCall('agent_a', 'visitor_1', T0 + 10);
      await store.detach('agent_a', 'socket_agent_a', T0 + 20);

      const result = await store.attach(
        attachInput('agent_a', 'socket_back', T0 + 5_000, { resumeSince: T0 + 20 }),
      );
      expect(result).toEqual({
        resumed: true,
        presence: expect.objectContaining({
          status: 'in_call',
          currentCallVisitorId: 'visitor_1',
          socketIds: ['socket_back'],
          disconnectedAt: null,
          connectedAt: T0,
          lastActivityAt: T0 + 5_000,
        }),
      });
      expect(await store.get('agent_a')).toEqual(result.presence);
    });

    it('a presence that left before the grace began is replaced by a new one', async () => {
      await idle('agent_a', T0);
      await store.detach('agent_a', 'socket_agent_a', T0 + 20);
      const result = await store.attach(
        attachInput('agent_a', 'socket_new', T0 + 60_000, { resumeSince: T0 + 21 }),
      );
      expect(result).toEqual({
        resumed: false,
        presence: expect.objectContaining({
          status: 'away',
          socketIds: ['socket_new'],
          currentCallVisitorId: null,
          connectedAt: T0 + 60_000,
          lastActivityAt: T0 + 60_000,
          disconnectedAt: null,
        }),
      });
    });
  });

  describe('detach', () => {
    it('removes a socket; the last one marks the presence disconnected, once', async () => {
      await attached('agent_a', 'socket_1', T0);
      await attached('agent_a', 'socket_2', T0);

      expect(await store.detach('agent_a', 'socket_1', T0 + 1)).toMatchObject({
        socketIds: ['socket_2'],
        disconnectedAt: null,
      });
      const last = await store.detach('agent_a', 'socket_2', T0 + 2);
      expect(last).toMatchObject({ socketIds: [], disconnectedAt: T0 + 2, lastActivityAt: T0 });
      expect((await store.get('agent_a'))!.socketIds).toEqual([]);

      // A late close of a socket it no longer has keeps the first instant.
      expect(await store.detach('agent_a', 'socket_1', T0 + 3)).toEqual(last);
    });

    it('an unknown socket changes nothing; an unknown agent is null', async () => {
      const presence = await attached('agent_a', 'socket_1', T0);
      expect(await store.detach('agent_a', 'socket_other', T0 + 1)).toEqual(presence);
      expect(await store.detach('agent_nobody', 'socket_1', T0)).toBeNull();
    });
  });

  describe('expireIfDisconnectedSince', () => {
    it('deletes the presence only if it is still disconnected since that instant', async () => {
      const gone = await disconnected('agent_a', T0);
      expect(await store.expireIfDisconnectedSince('agent_a', T0 - 1)).toBeNull();
      expect(await store.expireIfDisconnectedSince('agent_a', T0)).toEqual(gone);
      expect(await store.get('agent_a')).toBeNull();
      expect(await store.list()).toEqual([]);
      expect(await store.expireIfDisconnectedSince('agent_a', T0)).toBeNull();
    });

    it('leaves a presence that came back alone', async () => {
      await disconnected('agent_a', T0);
      await store.attach(attachInput('agent_a', 'socket_back', T0 + 5, { resumeSince: T0 }));
      expect(await store.expireIfDisconnectedSince('agent_a', T0)).toBeNull();

      // Left again later: only that later instant expires it.
      await store.detach('agent_a', 'socket_back', T0 + 10);
      expect(await store.expireIfDisconnectedSince('agent_a', T0)).toBeNull();
      expect(await store.expireIfDisconnectedSince('agent_a', T0 + 10)).toMatchObject({ agentId: 'agent_a' });
    });

    it('leaves a connected presence alone', async () => {
      await attached('agent_a');
      expect(await store.expireIfDisconnectedSince('agent_a', T0)).toBeNull();
      expect(await store.get('agent_a')).not.toBeNull();
    });
  });

  describe('remove', () => {
    it('deletes the presence now and returns it', async () => {
      const presence = await attached('agent_a');
      await attached('agent_b');
      expect(await store.remove('agent_a')).toEqual(presence);
      expect(await store.get('agent_a')).toBeNull();
      expect(ids(await store.list())).toEqual(['agent_b']);
      expect(await store.remove('agent_a')).toBeNull();
      expect(await store.remove('agent_nobody')).toBeNull();
    });
  });

  describe('setStatus', () => {
    it('sets the status and the activity', async () => {
      await attached('agent_a');
      expect(await store.setStatus('agent_a', 'idle', T0 + 5)).toMatchObject({
        status: 'idle',
        lastActivityAt: T0 + 5,
      });
      expect(await store.setStatus('agent_a', 'offline', T0 + 6)).toMatchObject({ status: 'offline' });
      expect(await store.get('agent_a')).toMatchObject({ status: 'offline', lastActivityAt: T0 + 6 });
    });

    it('keeps a status in unlessIn (the activity is still recorded)', async () => {
      await idle('agent_a');
      await store.enterCall('agent_a', 'visitor_1', T0 + 1);
      expect(await store.setStatus('agent_a', 'away', T0 + 2, ['in_call', 'in_simulation'])).toMatchObject({
        status: 'in_call',
        currentCallVisitorId: 'visitor_1',
        lastActivityAt: T0 + 2,
      });
      expect(await store.setStatus('agent_a', 'away', T0 + 3, ['in_simulation'])).toMatchObject({
        status: 'away',
      });
    });

    it('is null for an unknown agent', async () => {
      expect(await store.setStatus('agent_nobody', 'idle', T0)).toBeNull();
      expect(await store.list()).toEqual([]);
    });
  });

  describe('calls', () => {
    it('enterCall moves an idle agent in_call, and nobody else', async () => {
      await idle('agent_a');
      await attached('agent_away');
      expect(await store.enterCall('agent_a', 'visitor_1', T0 + 1)).toMatchObject({
        status: 'in_call',
        currentCallVisitorId: 'visitor_1',
        lastActivityAt: T0 + 1,
      });
      // One call at a time; away agents take none; unknown agents neither.
      expect(await store.enterCall('agent_a', 'visitor_2', T0 + 2)).toBeNull();
      expect(await store.enterCall('agent_away', 'visitor_2', T0 + 2)).toBeNull();
      expect(await store.enterCall('agent_nobody', 'visitor_2', T0 + 2)).toBeNull();
      expect(await store.get('agent_a')).toMatchObject({
        currentCallVisitorId: 'visitor_1',
        lastActivityAt: T0 + 1,
      });
      expect(await store.get('agent_away')).toMatchObject({ status: 'away', currentCallVisitorId: null });
    });

    it('two racing enterCalls: exactly one wins', async () => {
      await idle('agent_a');
      const results = await Promise.all(
        ['visitor_1', 'visitor_2', 'visitor_3'].map((visitorId) =>
          store.enterCall('agent_a', visitorId, T0 + 1),
        ),
      );
      expect(results.filter((result) => result !== null)).toHaveLength(1);
    });

    it('resumeCall puts the agent back in its call, unless it is in another one', async () => {
      await attached('agent_a');
      expect(await store.resumeCall('agent_a', 'visitor_1', T0 + 1)).toMatchObject({
        status: 'in_call',
        currentCallVisitorId: 'visitor_1',
        lastActivityAt: T0 + 1,
      });
      expect(await store.resumeCall('agent_a', 'visitor_1', T0 + 2)).toMatchObject({
        lastActivityAt: T0 + 2,
      });
      expect(await store.resumeCall('agent_a', 'visitor_2', T0 + 3)).toBeNull();
      expect(await store.get('agent_a')).toMatchObject({
        currentCallVisitorId: 'visitor_1',
        lastActivityAt: T0 + 2,
      });
      expect(await store.resumeCall('agent_nobody', 'visitor_1', T0)).toBeNull();
    });

    it('leaveCall moves an agent in a call back to idle; null when it was in none', async () => {
      await idle('agent_a');
      await store.enterCall('agent_a', 'visitor_1', T0 + 1);
      expect(await store.leaveCall('agent_a', T0 + 2)).toMatchObject({
        status: 'idle',
        currentCallVisitorId: null,
        lastActivityAt: T0 + 2,
      });
      expect(await store.leaveCall('agent_a', T0 + 3)).toBeNull();
      expect(await store.get('agent_a')).toMatchObject({ lastActivityAt: T0 + 2 });
      expect(await store.leaveCall('agent_nobody', T0)).toBeNull();
    });
  });

  describe('touch', () => {
    it('records activity of that agent only', async () => {
      await attached('agent_a');
      const other = await attached('agent_b');
      await store.touch('agent_a', T0 + 9_999);
      await store.touch('agent_nobody', T0 + 9_999);
      expect(await store.get('agent_a')).toMatchObject({ lastActivityAt: T0 + 9_999 });
      expect(await store.get('agent_b')).toEqual(other);
      expect(ids(await store.list())).toEqual(['agent_a', 'agent_b']);
    });
  });

  describe('list', () => {
    it('lists every presence, disconnected ones too, in creation order', async () => {
      await attached('agent_c');
      await attached('agent_a');
      await disconnected('agent_b', T0);
      await attached('agent_d');
      expect(ids(await store.list())).toEqual(['agent_c', 'agent_a', 'agent_b', 'agent_d']);
      expect(await store.get('agent_nobody')).toBeNull();
    });

    it('a resumed or replaced presence keeps its place; a removed and created one comes last', async () => {
      await attached('agent_a');
      await disconnected('agent_b', T0);
      await disconnected('agent_c', T0);
      await attached('agent_d');
      await attached('agent_e');

      await store.attach(attachInput('agent_b', 'socket_b2', T0 + 1, { resumeSince: T0 }));
      await store.attach(attachInput('agent_c', 'socket_c2', T0 + 1, { resumeSince: T0 + 1 }));
      await store.remove('agent_a');
      await attached('agent_a', 'socket_a2', T0 + 2);

      expect(ids(await store.list())).toEqual(['agent_b', 'agent_c', 'agent_d', 'agent_e', 'agent_a']);
    });
  });

  describe('inOrg', () => {
    it("lists one organisation's presences, as list() has them", async () => {
      await attached('agent_a1', 'socket_a1', T0, { orgId: 'org_a' });
      await attached('agent_b1', 'socket_b1', T0, { orgId: 'org_b' });
      await idle('agent_a2', T0, { orgId: 'org_a' });
      await attached('agent_b2', 'socket_b2', T0, { orgId: 'org_b' });
      await attached('agent_a3', 'socket_a3', T0, { orgId: 'org_a' });
      await store.detach('agent_a3', 'socket_a3', T0 + 1);

      const all = await store.list();
      expect(await store.inOrg('org_a')).toEqual(all.filter((p) => p.orgId === 'org_a'));
      expect(await store.inOrg('org_b')).toEqual(all.filter((p) => p.orgId === 'org_b'));
      expect(ids(await store.inOrg('org_a'))).toEqual(['agent_a1', 'agent_a2', 'agent_a3']);
      expect(await store.inOrg('org_nobody')).toEqual([]);
    });

    it('follows every change of the presences it lists', async () => {
      await attached('agent_a1', 'socket_a1', T0, { orgId: 'org_a' });
      await store.setStatus('agent_a1', 'idle', T0 + 1);
      await store.enterCall('agent_a1', 'visitor_1', T0 + 2);
      expect(await store.inOrg('org_a')).toEqual([await store.get('agent_a1')]);
      expect(await store.inOrg('org_a')).toEqual([expect.objectContaining({ status: 'in_call' })]);
    });

    it('removal and expiry drop presences from their organisation', async () => {
      await attached('agent_a1', 'socket_a1', T0, { orgId: 'org_a' });
      await attached('agent_a2', 'socket_a2', T0, { orgId: 'org_a' });
      await attached('agent_b1', 'socket_b1', T0, { orgId: 'org_b' });

      await store.remove('agent_a1');
      expect(ids(await store.inOrg('org_a'))).toEqual(['agent_a2']);

      await store.detach('agent_a2', 'socket_a2', T0 + 1);
      expect(ids(await store.inOrg('org_a'))).toEqual(['agent_a2']);
      await store.expireIfDisconnectedSince('agent_a2', T0 + 1);
      expect(await store.inOrg('org_a')).toEqual([]);
      expect(ids(await store.inOrg('org_b'))).toEqual(['agent_b1']);

      await attached('agent_a1', 'socket_a1b', T0 + 2, { orgId: 'org_a' });
      expect(ids(await store.inOrg('org_a'))).toEqual(['agent_a1']);
    });

    it('a presence replaced under another organisation moves to it', async () => {
      await attached('agent_x', 'socket_x', T0, { orgId: 'org_a' });
      await attached('agent_a2', 'socket_a2', T0, { orgId: 'org_a' });
      await attached('agent_b1', 'socket_b1', T0, { orgId: 'org_b' });
      await store.detach('agent_x', 'socket_x', T0 + 1);
      await store.attach(attachInput('agent_x', 'socket_x2', T0 + 60_000, { orgId: 'org_b' }));

      expect(ids(await store.inOrg('org_a'))).toEqual(['agent_a2']);
      expect(ids(await store.inOrg('org_b'))).toEqual(['agent_b1', 'agent_x']);
      expect(await store.get('agent_x')).toMatchObject({ orgId: 'org_b', status: 'away' });
    });
  });

  describe('markStale', () => {
    it('moves idle connected agents silent since before the cutoff to away, in list order', async () => {
      await idle('agent_late', T0 + 100);
      await idle('agent_a', T0 + 20);
      await idle('agent_at_cutoff', T0 + 50);
      await idle('agent_b', T0 + 10);
      await idle('agent_in_call', T0);
      await store.enterCall('agent_in_call', 'visitor_1', T0);
      await attached('agent_away', 'socket_away', T0);
      await idle('agent_gone', T0);
      await store.detach('agent_gone', 'socket_agent_gone', T0 + 1);

      const marked = await store.markStale(T0 + 50, T0 + 1_000);
      // List order, not the order of their silence.
      expect(ids(marked)).toEqual(['agent_a', 'agent_b']);
      for (const presence of marked) {
        expect(presence).toMatchObject({ status: 'away', lastActivityAt: T0 + 1_000 });
        expect(await store.get(presence.agentId)).toEqual(presence);
      }
      expect(await store.get('agent_at_cutoff')).toMatchObject({ status: 'idle', lastActivityAt: T0 + 50 });
      expect(await store.get('agent_late')).toMatchObject({ status: 'idle' });
      expect(await store.get('agent_in_call')).toMatchObject({ status: 'in_call', lastActivityAt: T0 });
      expect(await store.get('agent_away')).toMatchObject({ status: 'away', lastActivityAt: T0 });
      expect(await store.get('agent_gone')).toMatchObject({ status: 'idle', lastActivityAt: T0 });

      expect(await store.markStale(T0 + 50, T0 + 2_000)).toEqual([]);
    });

    it('follows activity: a touch, a status change or a call keeps an agent fresh', async () => {
      await idle('agent_touched', T0);
      await idle('agent_again', T0);
      await idle('agent_called', T0);
      await idle('agent_resumed', T0);
      await store.touch('agent_touched', T0 + 100);
      await store.setStatus('agent_again', 'away', T0 + 1);
      await store.setStatus('agent_again', 'idle', T0 + 100);
      await store.enterCall('agent_called', 'visitor_1', T0 + 1);
      await store.leaveCall('agent_called', T0 + 100);
      await store.detach('agent_resumed', 'socket_agent_resumed', T0 + 1);
      await store.attach(attachInput('agent_resumed', 'socket_r2', T0 + 100, { resumeSince: T0 }));

      expect(ids(await store.markStale(T0 + 50, T0 + 200))).toEqual([]);
      expect(ids(await store.markStale(T0 + 101, T0 + 200))).toEqual([
        'agent_touched',
        'agent_again',
        'agent_called',
        'agent_resumed',
      ]);
    });

    it('is atomic: racing sweeps mark each agent once', async () => {
      for (let i = 0; i < 10; i += 1) await idle(`agent_${i}`, T0);
      const sweeps = await Promise.all([1, 2, 3].map((n) => store.markStale(T0 + 1, T0 + n)));
      expect(sweeps.flat()).toHaveLength(10);
      expect(new Set(ids(sweeps.flat())).size).toBe(10);
    });
  });

  describe('returns copies', () => {
    it('mutating a returned presence does not change the store', async () => {
      const presence = await attached('agent_a', 'socket_1', T0);
      presence.socketIds.push('socket_mutated');
      presence.pools.push('pool_mutated');
      presence.status = 'in_call';
      const got = (await store.get('agent_a'))!;
      got.socketIds.push('socket_mutated');
      got.orgId = 'org_mutated';
      (await store.list())[0].pools.push('pool_mutated');
      (await store.inOrg('org_one'))[0].socketIds.push('socket_mutated');
      (await store.detach('agent_a', 'socket_other', T0))!.socketIds.push('socket_mutated');

      expect(await store.get('agent_a')).toMatchObject({
        orgId: 'org_one',
        status: 'away',
        socketIds: ['socket_1'],
        pools: ['pool_sales'],
      });
    });
  });
}
