import request from 'supertest';
import { connected, next, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';

describe('rate limits', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ RATE_LIMIT_LOGIN_MAX: '3', RATE_LIMIT_HTTP_MAX: '4' });
  });
  afterAll(() => testApp.close());

  it('agent:login is limited per IP: the next attempt gets RATE_LIMITED and is not processed', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const socket = testApp.connect();
      await connected(socket);
      const error = next<{ code: string }>(socket, 'error');
      socket.emit('agent:login', { agentId: fixtures.agent.agentId, token: 'garbage' });
      expect((await error).code).toBe('AUTH_INVALID_TOKEN');
    }
    const socket = testApp.connect();
    await connected(socket);
    const error = next<{ code: string; event: string }>(socket, 'error');
    // Even a valid token is refused while the budget is spent.
    socket.emit('agent:login', {
      agentId: fixtures.agent.agentId,
      token: await mintHs256({ sub: fixtures.agent.userId }),
    });
    expect(await error).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), event: 'agent:login' });
    expect(testApp.events).toContainEqual(
      expect.objectContaining({ type: 'ratelimit.blocked', target: 'agent:login', details: { scope: 'ws' } }),
    );
    socket.disconnect();
  });

  it('a token in the handshake spends the same per-IP budget, so it cannot be used to guess around it', async () => {
    const other = await startApp({ RATE_LIMIT_LOGIN_MAX: '2' });
    try {
      const token = await mintHs256({ sub: fixtures.agent.userId });
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const socket = other.connect({ auth: { token } });
        await connected(socket);
        socket.disconnect();
      }
      const refused = other.connect({ auth: { token } });
      await expect(connected(refused)).rejects.toMatchObject({ data: { code: 'RATE_LIMITED' } });
      // agent:login from the same address is out of budget too; anonymous sockets still connect.
      const anonymous = other.connect();
      await connected(anonymous);
      const error = next<{ code: string }>(anonymous, 'error');
      anonymous.emit('agent:login', { agentId: fixtures.agent.agentId, token });
      expect((await error).code).toBe('RATE_LIMITED');
      expect(other.events).toContainEqual(
        expect.objectContaining({ type: 'ratelimit.blocked', target: 'connection' }),
      );
    } finally {
      await other.close();
    }
  });

  it('HTTP /auth/* is limited per IP with 429 and the error envelope; health routes are exempt', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await request(testApp.url).post('/auth/ws-ticket')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const limited = await request(testApp.url).post('/auth/ws-ticket').expect(429);
    expect(limited.body).toEqual({ statusCode: 429, error: expect.any(String), code: 'RATE_LIMITED' });
    for (let i = 0; i < 10; i += 1) await request(testApp.url).get('/health').expect(200);
  });
});
