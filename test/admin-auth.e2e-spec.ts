import { Controller, Get, Logger, Module } from '@nestjs/common';
import request from 'supertest';
import type { HttpIdentity } from '../src/auth/agent-auth.service';
import { AuthModule } from '../src/auth/auth.module';
import { AdminAuth, CurrentUser } from '../src/auth/decorators/admin-auth.decorator';
import { AgentDirectory } from '../src/auth/directory/agent-directory.service';
import { startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { hostile, mintHs256 } from './helpers/keys';

/** Probe routes, one per role threshold, mounted beside the real controllers. */
@Controller('probe')
class RoleProbeController {
  @AdminAuth('auditor')
  @Get('auditor')
  auditor(@CurrentUser() user: HttpIdentity): { role: string } {
    return { role: user.role };
  }

  @AdminAuth('admin')
  @Get('admin')
  admin(@CurrentUser() user: HttpIdentity): { role: string } {
    return { role: user.role };
  }

  @AdminAuth('platform_admin')
  @Get('platform')
  platform(@CurrentUser() user: HttpIdentity): { role: string } {
    return { role: user.role };
  }
}

/** A feature module the way audit/metrics will declare admin routes: it imports AuthModule. */
@Module({ imports: [AuthModule], controllers: [RoleProbeController] })
class RoleProbeModule {}

const { agent, auditor, admin, platformAdmin, disabledAgent } = fixtures;

describe('@AdminAuth(...roles) over HTTP', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({}, 0, { imports: [RoleProbeModule] });
  });
  afterAll(() => testApp.close());

  const bearer = async (sub: string): Promise<string> => `Bearer ${await mintHs256({ sub })}`;

  it('401 without a token, with a malformed header, a bad token, or a user outside the directory', async () => {
    const http = request(testApp.app.getHttpServer());
    const noToken = await http.get('/probe/auditor');
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({
      statusCode: 401,
      error: 'Authentication required: send Authorization: Bearer <token>.',
      code: 'AUTH_REQUIRED',
    });
    expect(noToken.headers['www-authenticate']).toBe('Bearer');
    expect((await http.get('/probe/auditor').set('Authorization', 'Basic abc')).status).toBe(401);
    const garbage = await http.get('/probe/auditor').set('Authorization', `Bearer ${hostile.garbage}`);
    expect(garbage.body).toEqual({ statusCode: 401, error: expect.any(String), code: 'AUTH_INVALID_TOKEN' });
    const expired = await mintHs256({ sub: admin.userId, exp: Math.floor(Date.now() / 1000) - 60 });
    const expiredRes = await http.get('/probe/auditor').set('Authorization', `Bearer ${expired}`);
    expect(expiredRes.body.code).toBe('AUTH_EXPIRED');
    const stranger = await bearer('ffffffff-0000-4000-8000-00000000dead');
    expect((await http.get('/probe/auditor').set('Authorization', stranger)).status).toBe(401);
  });

  it('answers an oversized or malformed JSON body with 4xx and the envelope, not a 500', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const http = request(testApp.app.getHttpServer());
      const huge = await http
        .post('/auth/ws-ticket')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ padding: 'x'.repeat(200_000) }));
      expect(huge.status).toBe(413);
      expect(huge.body).toEqual({ statusCode: 413, error: expect.any(String), code: 'INVALID_PAYLOAD' });
      const broken = await http.post('/auth/ws-ticket').set('Content-Type', 'application/json').send('{"a":');
      expect(broken.status).toBe(400);
      expect(broken.body.code).toBe('INVALID_PAYLOAD');
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });

  it('401 comes before 403: a bad token on a route the caller could never reach is still 401', async () => {
    const res = await request(testApp.app.getHttpServer())
      .get('/probe/platform')
      .set('Authorization', `Bearer ${hostile.algNone({ sub: platformAdmin.userId })}`);
    expect(res.status).toBe(401);
  });

  it('applies the hierarchy agent < auditor < admin < platform_admin, with the role from the directory', async () => {
    const http = request(testApp.app.getHttpServer());
    const matrix: [typeof agent | typeof auditor, string, number][] = [
      [agent, 'auditor', 403],
      [auditor, 'auditor', 200],
      [auditor, 'admin', 403],
      [admin, 'admin', 200],
      [admin, 'auditor', 200],
      [admin, 'platform', 403],
      [platformAdmin, 'platform', 200],
      [platformAdmin, 'auditor', 200],
    ];
    for (const [user, route, status] of matrix) {
      // A role claim in the token is ignored: only the directory decides.
      const token = await mintHs256({
        sub: user.userId,
        role: 'platform_admin',
        user_role: 'platform_admin',
      });
      const res = await http.get(`/probe/${route}`).set('Authorization', `Bearer ${token}`);
      expect({ who: user.role, route, status: res.status }).toEqual({ who: user.role, route, status });
      if (status === 200) expect(res.body).toEqual({ role: user.role });
      else expect(res.body).toEqual({ statusCode: 403, error: expect.any(String), code: 'FORBIDDEN' });
    }
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.forbidden',
        reason: 'insufficient_role',
        target: 'GET /probe/auditor',
      }),
    );
  });

  it('refuses a disabled user (403) and a revoked session (401 AUTH_REVOKED)', async () => {
    const http = request(testApp.app.getHttpServer());
    const disabled = await http
      .get('/probe/auditor')
      .set('Authorization', await bearer(disabledAgent.userId));
    expect(disabled.body.code).toBe('AUTH_AGENT_DISABLED');
    expect(disabled.status).toBe(403);

    const old = await mintHs256({ sub: agent.userId, iat: Math.floor(Date.now() / 1000) - 10 });
    await testApp.app.get(AgentDirectory).revoke(agent.agentId!, Math.floor(Date.now() / 1000) - 5);
    const revoked = await http.post('/auth/ws-ticket').set('Authorization', `Bearer ${old}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('AUTH_REVOKED');
  });
});
