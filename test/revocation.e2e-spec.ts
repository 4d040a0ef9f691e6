import { readFileSync } from 'node:fs';
import { Socket } from 'socket.io-client';
import request from 'supertest';
import { AgentDirectory } from '../src/auth/directory/agent-directory.service';
import type { SecurityEvent } from '../src/common/security/security-event';
import { expectLoginRefused, login } from './helpers/agent';
import { AGENTS_FILE, connected, disconnected, next, request as ask, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';

interface FileUser {
  userId: string;
  agentId?: string;
  orgId?: string;
  role: string;
  active?: boolean;
}
const users = (JSON.parse(readFileSync(AGENTS_FILE, 'utf8')) as { users: FileUser[] }).users;
const { agent, otherAgent, admin, auditor, platformAdmin } = fixtures;
/** A third active agent of the fixtures' organisation. */
const thirdAgent = users.find(
  (u) =>
    u.role === 'agent' &&
    u.orgId === agent.orgId &&
    u.active !== false &&
    u.agentId &&
    ![agent.userId, otherAgent.userId].includes(u.userId),
) as Required<FileUser>;
/** An admin of an organisation other than the fixtures' agents'. */
const foreignAdmin = users.find((u) => u.role === 'admin' && u.orgId !== agent.orgId)!;
/** Active agents of that other organisation. */
const [foreignAgent, idleForeignAgent] = users.filter(
  (u) => u.role === 'agent' && u.orgId === foreignAdmin.orgId && u.active !== false && u.agentId,
) as Required<FileUser>[];

const REVOKE_ROUTE = 'POST /admin/agents/:agentId/revoke';
const revokePath = (agentId: string): string => `/admin/agents/${agentId}/revoke`;

/** What a socket saw from the server, in order. */
function record(socket: Socket): string[] {
  const seen: string[] = [];
  socket.on('session:revoked', (payload: { message: string }) =>
    seen.push(`session:revoked ${payload.message}`),
  );
  socket.on('disconnect', (reason) => seen.push(`disconnect ${reason}`));
  return seen;
}

describe('session revocation (POST /admin/agents/:agentId/revoke)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp();
  });
  afterAll(() => testApp.close());

  const http = () => request(testApp.app.getHttpServer());
  const bearer = async (sub: string, claims: Record<string, unknown> = {}): Promise<string> =>
    `Bearer ${await mintHs256({ sub, ...claims })}`;
  const revocations = (agentId: string): SecurityEvent[] =>
    testApp.events.filter((e) => e.type === 'auth.session_revoked' && e.details?.agentId === agentId);

  it('fixtures: two organisations, each with an admin, and agents to revoke', () => {
    expect(foreignAdmin).toBeDefined();
    expect(foreignAgent).toBeDefined();
    expect(idleForeignAgent).toBeDefined();
    expect(thirdAgent).toBeDefined();
    expect(admin.orgId).toBe(agent.orgId);
    expect(otherAgent.orgId).toBe(agent.orgId);
  });

  it('disconnects every tab of the agent with session:revoked first, then refuses the old token at login and for tickets; a later token logs in', async () => {
    const oldToken = await mintHs256({ sub: agent.userId });
    const tab1 = await login(testApp, oldToken);
    const tab2 = await login(testApp, oldToken);
    // Available before the revocation: a resumed presence would bring this status back.
    expect(await ask(tab1.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    const seen1 = record(tab1.socket);
    const seen2 = record(tab2.socket);
    const closed = [disconnected(tab1.socket), disconnected(tab2.socket)];

    const response = await http()
      .post(revokePath(agent.agentId))
      .set('Authorization', await bearer(admin.userId));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revokedAt: expect.any(String), disconnected: 2 });
    const revokedAtMs = Date.parse(response.body.revokedAt);
    expect(new Date(revokedAtMs).toISOString()).toBe(response.body.revokedAt);
    expect(revokedAtMs % 1000).toBe(0); // whole seconds, like a token's iat
    expect(Math.abs(Date.now() - revokedAtMs)).toBeLessThan(5_000);

    expect(await Promise.all(closed)).toEqual(['io server disconnect', 'io server disconnect']);
    for (const seen of [seen1, seen2]) {
      expect(seen).toEqual([
        expect.stringMatching(/^session:revoked \S.*revoked/),
        'disconnect io server disconnect',
      ]);
    }

    // The old token: refused at agent:login and at the ticket exchange (the handshake: below).
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: oldToken }, 'AUTH_REVOKED');
    const ticket = await http().post('/auth/ws-ticket').set('Authorization', `Bearer ${oldToken}`);
    expect(ticket.status).toBe(401);
    expect(ticket.body.code).toBe('AUTH_REVOKED');

    // Tokens are refused up to and including the revocation's second: "fresh" means issued after it.
    const freshIat = revokedAtMs / 1000 + 1;
    const fresh = await mintHs256({ sub: agent.userId, iat: freshIat, exp: freshIat + 3600 });
    const again = await login(testApp, fresh);
    // The revoked presence ended at once: no resume of the earlier `idle` within the disconnect grace.
    expect(again.state.status).toBe('away');
    expect(await ask(again.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    const freshTicket = await http().post('/auth/ws-ticket').set('Authorization', `Bearer ${fresh}`);
    expect(freshTicket.status).toBe(200);
    again.socket.disconnect();

    // Recorded once, by the admin, under the agent's organisation.
    expect(revocations(agent.agentId)).toEqual([
      expect.objectContaining({
        type: 'auth.session_revoked',
        outcome: 'success',
        actor: expect.objectContaining({ userId: admin.userId, role: 'admin' }),
        orgId: agent.orgId,
        source: expect.objectContaining({ transport: 'http', ip: expect.any(String) }),
        target: REVOKE_ROUTE,
        details: { agentId: agent.agentId, revokedAt: response.body.revokedAt },
      }),
    ]);
  });

  it('refuses a token issued before the revocation at the Socket.IO handshake too', async () => {
    const oldToken = await mintHs256({ sub: thirdAgent.userId });
    const response = await http()
      .post(revokePath(thirdAgent.agentId))
      .set('Authorization', await bearer(admin.userId));
    expect(response.status).toBe(200);
    const handshake = testApp.connect({ auth: { token: oldToken } });
    await expect(connected(handshake)).rejects.toMatchObject({
      message: 'Connection refused: this session has been revoked. Sign in again.',
      data: { code: 'AUTH_REVOKED' },
    });
    const freshIat = Date.parse(response.body.revokedAt) / 1000 + 1;
    const fresh = await mintHs256({ sub: thirdAgent.userId, iat: freshIat, exp: freshIat + 3600 });
    const accepted = testApp.connect({ auth: { token: fresh } });
    await connected(accepted);
    accepted.disconnect();
  });

  it('an admin of another organisation gets 404, as for an unknown agent, and nothing happens', async () => {
    const token = await mintHs256({ sub: otherAgent.userId });
    const { socket } = await login(testApp, token, otherAgent.agentId);
    const seen = record(socket);

    const foreign = await http()
      .post(revokePath(otherAgent.agentId))
      .set('Authorization', await bearer(foreignAdmin.userId));
    const unknown = await http()
      .post(revokePath('agent_nobody'))
      .set('Authorization', await bearer(foreignAdmin.userId));
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ statusCode: 404, error: 'Agent not found.', code: 'NOT_FOUND' });
    // Indistinguishable from an agent that does not exist.
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(foreign.body);

    expect(testApp.app.get(AgentDirectory).revokedAt(otherAgent.agentId)).toBeUndefined();
    expect(await ask(socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    expect(socket.connected).toBe(true);
    expect(seen).toEqual([]);
    // The attempt is recorded as a failure under the caller's organisation, never as a revocation.
    expect(revocations(otherAgent.agentId)).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        reason: 'agent_not_found',
        actor: expect.objectContaining({ userId: foreignAdmin.userId }),
        orgId: foreignAdmin.orgId,
        target: REVOKE_ROUTE,
      }),
    ]);
    socket.disconnect();
  });

  it('401 without a token, 403 for an auditor or an agent; nothing is revoked', async () => {
    const path = revokePath(otherAgent.agentId);
    const anonymous = await http().post(path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('AUTH_REQUIRED');
    const byAuditor = await http()
      .post(path)
      .set('Authorization', await bearer(auditor.userId));
    expect(byAuditor.status).toBe(403);
    expect(byAuditor.body).toEqual({ statusCode: 403, error: expect.any(String), code: 'FORBIDDEN' });
    // Not even their own sessions (the fixtures' first agent is revoked by now: use the other).
    const byAgent = await http()
      .post(path)
      .set('Authorization', await bearer(otherAgent.userId));
    expect(byAgent.status).toBe(403);
    expect(testApp.app.get(AgentDirectory).revokedAt(otherAgent.agentId)).toBeUndefined();
    expect(revocations(otherAgent.agentId).filter((e) => e.outcome === 'success')).toEqual([]);
  });

  it('a platform admin revokes an agent of any organisation', async () => {
    const { socket } = await login(
      testApp,
      await mintHs256({ sub: foreignAgent.userId }),
      foreignAgent.agentId,
    );
    const revoked = next<{ message: string }>(socket, 'session:revoked');
    const closed = disconnected(socket);
    const response = await http()
      .post(revokePath(foreignAgent.agentId))
      .set('Authorization', await bearer(platformAdmin.userId));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revokedAt: expect.any(String), disconnected: 1 });
    expect(await revoked).toEqual({ message: expect.any(String) });
    expect(await closed).toBe('io server disconnect');
    expect(revocations(foreignAgent.agentId)).toEqual([
      expect.objectContaining({
        outcome: 'success',
        actor: expect.objectContaining({ userId: platformAdmin.userId, role: 'platform_admin' }),
        orgId: foreignAgent.orgId,
      }),
    ]);

    // An agent with no live session is revoked all the same (nothing to disconnect).
    const idle = await http()
      .post(revokePath(idleForeignAgent.agentId))
      .set('Authorization', await bearer(platformAdmin.userId));
    expect(idle.status).toBe(200);
    expect(idle.body.disconnected).toBe(0);
    expect(testApp.app.get(AgentDirectory).revokedAt(idleForeignAgent.agentId)).toBe(
      Date.parse(idle.body.revokedAt) / 1000,
    );
  });

  it('404 for an unknown agent, 400 naming agentId for an id that is not one', async () => {
    const auth = await bearer(admin.userId);
    const unknown = await http().post(revokePath('agent_does_not_exist')).set('Authorization', auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    for (const bad of ['a'.repeat(129), 'agent%24ann', 'agent%20ann']) {
      const response = await http().post(revokePath(bad)).set('Authorization', auth);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(
        expect.objectContaining({
          statusCode: 400,
          code: 'INVALID_PAYLOAD',
          details: expect.arrayContaining([expect.objectContaining({ field: 'agentId' })]),
        }),
      );
    }
    expect(
      testApp.events.filter((e) => e.type === 'auth.session_revoked' && e.outcome === 'success'),
    ).toHaveLength(4);
  });
});
