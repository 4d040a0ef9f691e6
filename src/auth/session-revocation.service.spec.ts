import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { DomainError } from '../common/errors/domain-error';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig, validateEnvironment } from '../config/app-config';
import type { HttpIdentity } from './agent-auth.service';
import { AgentDirectory } from './directory/agent-directory.service';
import type { Role } from './directory/directory.types';
import { InMemoryDirectoryStore } from './directory/in-memory-directory.store';
import { LocalRevocationFeed } from './directory/revocation-feed';
import { SESSION_REVOKED_MESSAGE, SessionRevocationService } from './session-revocation.service';
import { SessionTerminator } from './session-terminator';

const EXAMPLE = join(__dirname, '../../config/agents.example.json');
const REQUEST = { source: { transport: 'http', ip: '203.0.113.7' }, target: 'POST /x' } as const;
/** 2026-11-22T08:00:00.250Z: a quarter of a second into its second. */
const NOW_MS = Date.UTC(2026, 10, 22, 8, 0, 0, 250);

function caller(role: Role, orgId: string | null): HttpIdentity {
  return {
    userId: `user-${role}-${orgId}`,
    agentId: null,
    orgId,
    role,
    claims: { sub: `user-${role}-${orgId}`, exp: 0, iat: 0, raw: {} },
    method: 'hs256',
  };
}

/** A terminator that records what it was asked and answers `count` (or fails). */
class RecordingTerminator extends SessionTerminator {
  readonly calls: [string, string][] = [];
  constructor(private readonly outcome: number | Error) {
    super();
  }
  terminate(agentId: string, message: string): Promise<number> {
    this.calls.push([agentId, message]);
    return this.outcome instanceof Error ? Promise.reject(this.outcome) : Promise.resolve(this.outcome);
  }
}

describe('SessionRevocationService', () => {
  let directory: AgentDirectory;
  let service: SessionRevocationService;
  let published: SecurityEvent[];
  let feed: LocalRevocationFeed;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const bus = new SecurityEventBus();
    published = [];
    bus.subscribe((event) => published.push(event));
    const config = new AppConfig({ ...validateEnvironment({ NODE_ENV: 'test' }), agentsFile: EXAMPLE });
    feed = new LocalRevocationFeed();
    directory = new AgentDirectory(new InMemoryDirectoryStore(), config, bus, feed);
    await directory.onModuleInit();
    published.length = 0;
    service = new SessionRevocationService(directory, bus);
  });
  afterEach(() => jest.restoreAllMocks());

  it('stores the revocation in whole seconds, records it, and sums what the terminators disconnected', async () => {
    const local = new RecordingTerminator(2);
    const other = new RecordingTerminator(1);
    service.registerTerminator(local);
    service.registerTerminator(other);
    const admin = caller('admin', 'org_acme');

    const result = await service.revoke(admin, 'agent_ann', REQUEST, NOW_MS);

    expect(result).toEqual({ revokedAt: '2026-11-22T08:00:00.000Z', disconnected: 3 });
    expect(directory.revokedAt('agent_ann')).toBe(Math.floor(NOW_MS / 1000));
    expect(local.calls).toEqual([['agent_ann', SESSION_REVOKED_MESSAGE]]);
    expect(other.calls).toEqual([['agent_ann', SESSION_REVOKED_MESSAGE]]);
    expect(published).toEqual([
      expect.objectContaining({
        type: 'auth.session_revoked',
        outcome: 'success',
        method: 'hs256',
        actor: { userId: admin.userId, agentId: undefined, role: 'admin' },
        orgId: 'org_acme',
        source: REQUEST.source,
        target: REQUEST.target,
        details: { agentId: 'agent_ann', revokedAt: '2026-11-22T08:00:00.000Z' },
      }),
    ]);
  });

  it('answers an agent of another organisation exactly like an unknown one, and changes nothing', async () => {
    const terminator = new RecordingTerminator(1);
    service.registerTerminator(terminator);
    const foreignAdmin = caller('admin', 'org_globex');

    const foreign = await service.revoke(foreignAdmin, 'agent_ann', REQUEST, NOW_MS).catch((e: unknown) => e);
    const unknown = await service
      .revoke(foreignAdmin, 'agent_nobody', REQUEST, NOW_MS)
      .catch((e: unknown) => e);

    for (const error of [foreign, unknown]) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'Agent not found.' });
    }
    expect(directory.revokedAt('agent_ann')).toBeUndefined();
    expect(terminator.calls).toEqual([]);
    expect(published.map((e) => [e.outcome, e.reason, e.orgId])).toEqual([
      ['failure', 'agent_not_found', 'org_globex'],
      ['failure', 'agent_not_found', 'org_globex'],
    ]);
  });

  it('lets a platform admin (no organisation) revoke an agent of any organisation', async () => {
    const result = await service.revoke(caller('platform_admin', null), 'agent_gil', REQUEST, NOW_MS);
    expect(result.disconnected).toBe(0);
    expect(directory.revokedAt('agent_gil')).toBe(Math.floor(NOW_MS / 1000));
    expect(published[0]).toMatchObject({ outcome: 'success', orgId: 'org_globex' });
  });

  it('does not let an admin without an organisation reach anyone', async () => {
    await expect(service.revoke(caller('admin', null), 'agent_ann', REQUEST, NOW_MS)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('keeps the revocation but fails loudly when a terminator could not disconnect', async () => {
    const working = new RecordingTerminator(1);
    service.registerTerminator(working);
    service.registerTerminator(new RecordingTerminator(new Error('adapter down')));

    await expect(
      service.revoke(caller('admin', 'org_acme'), 'agent_ann', REQUEST, NOW_MS),
    ).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    // Tokens are refused whatever happened to the sockets, and the others were still asked.
    expect(directory.revokedAt('agent_ann')).toBe(Math.floor(NOW_MS / 1000));
    expect(working.calls).toHaveLength(1);
  });

  it('ends the live sessions but fails loudly when other instances could not be told', async () => {
    const terminator = new RecordingTerminator(2);
    service.registerTerminator(terminator);
    jest.spyOn(feed, 'publish').mockRejectedValue(new Error('redis down'));

    await expect(
      service.revoke(caller('admin', 'org_acme'), 'agent_ann', REQUEST, NOW_MS),
    ).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    // In force here, stored for the others to load, and this instance's sessions ended.
    expect(directory.revokedAt('agent_ann')).toBe(Math.floor(NOW_MS / 1000));
    expect(terminator.calls).toEqual([['agent_ann', SESSION_REVOKED_MESSAGE]]);
    expect(published).toEqual([
      expect.objectContaining({ type: 'auth.session_revoked', outcome: 'success' }),
    ]);
  });

  it('stops asking a terminator once it unregisters', async () => {
    const terminator = new RecordingTerminator(1);
    const unregister = service.registerTerminator(terminator);
    unregister();
    const result = await service.revoke(caller('admin', 'org_acme'), 'agent_bob', REQUEST, NOW_MS);
    expect(result.disconnected).toBe(0);
    expect(terminator.calls).toEqual([]);
  });
});
