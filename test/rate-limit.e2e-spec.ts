import request from 'supertest';
import { Socket } from 'socket.io-client';
import type { ErrorPayload } from '../src/signaling/protocol';
import { connected, next, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';

/** A fresh socket's agent:login; resolves with what the server answered (its first event of the two). */
async function loginAnswer(
  testApp: TestApp,
  payload: { agentId: string; token: string },
): Promise<{ socket: Socket; answer: 'login:success' | ErrorPayload }> {
  const socket = testApp.connect();
  await connected(socket);
  const answer = await new Promise<'login:success' | ErrorPayload>((resolve) => {
    socket.once('login:success', () => resolve('login:success'));
    socket.once('error', (error: ErrorPayload) => resolve(error));
    socket.emit('agent:login', payload);
  });
  return { socket, answer };
}

const RETRY_MESSAGE = /^Too many failed login attempts\. Retry in \d+ s\.$/;

describe('login budgets: failures only, per IP and per claimed agent (PROTOCOL §6)', () => {
  let testApp: TestApp;
  afterEach(() => testApp.close());

  it('16 successful logins from one address are all accepted; the 11th failure is RATE_LIMITED', async () => {
    testApp = await startApp({ RATE_LIMIT_LOGIN_MAX: '10', RATE_LIMIT_LOGIN_AGENT_MAX: '1000' });
    const valid = { agentId: fixtures.agent.agentId, token: await mintHs256({ sub: fixtures.agent.userId }) };
    // A call centre's agents behind one public address, each with a tab or two.
    for (let i = 0; i < 16; i += 1) {
      const { socket, answer } = await loginAnswer(testApp, valid);
      expect(answer).toBe('login:success');
      socket.disconnect();
    }
    // Ten failures (each claiming another agent, so only the IP budget is spent): each its own code.
    for (let i = 0; i < 10; i += 1) {
      const { socket, answer } = await loginAnswer(testApp, {
        agentId: `agent_guess_${i}`,
        token: 'garbage',
      });
      expect(answer).toEqual(expect.objectContaining({ code: 'AUTH_INVALID_TOKEN', event: 'agent:login' }));
      socket.disconnect();
    }
    const eleventh = await loginAnswer(testApp, { agentId: 'agent_guess_10', token: 'garbage' });
    expect(eleventh.answer).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(RETRY_MESSAGE),
      event: 'agent:login',
    });
    // The refused socket stays connected, and is anonymous.
    expect(await eleventh.socket.timeout(3000).emitWithAck('agent:back')).toEqual({
      success: false,
      error: { code: 'AUTH_REQUIRED', message: expect.any(String) },
    });
    eleventh.socket.disconnect();
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'ratelimit.blocked',
        outcome: 'failure',
        reason: 'rate_limited',
        target: 'agent:login',
        details: {
          claimedAgentId: 'agent_guess_10',
          scope: 'login',
          budget: 'ip',
          refusedWith: 'malformed',
        },
      }),
    );
    // A correct token is never refused because others behind the address failed.
    const colleague = await loginAnswer(testApp, valid);
    expect(colleague.answer).toBe('login:success');
    colleague.socket.disconnect();
  });

  it('5 failures claiming one agent use up that agent’s budget, never its own logins', async () => {
    testApp = await startApp({ RATE_LIMIT_LOGIN_MAX: '1000', RATE_LIMIT_LOGIN_AGENT_MAX: '5' });
    const target = fixtures.agent.agentId;
    for (let i = 0; i < 5; i += 1) {
      const { socket, answer } = await loginAnswer(testApp, { agentId: target, token: 'garbage' });
      expect(answer).toEqual(expect.objectContaining({ code: 'AUTH_INVALID_TOKEN' }));
      socket.disconnect();
    }
    const sixth = await loginAnswer(testApp, { agentId: target, token: 'garbage' });
    expect(sixth.answer).toEqual(
      expect.objectContaining({ code: 'RATE_LIMITED', message: expect.stringMatching(RETRY_MESSAGE) }),
    );
    sixth.socket.disconnect();
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'ratelimit.blocked',
        details: expect.objectContaining({ budget: 'agent' }),
      }),
    );
    // Another agent's budget is its own.
    const other = await loginAnswer(testApp, { agentId: fixtures.otherAgent.agentId, token: 'garbage' });
    expect(other.answer).toEqual(expect.objectContaining({ code: 'AUTH_INVALID_TOKEN' }));
    other.socket.disconnect();
    // Whoever failed in its name, the agent itself still signs in.
    const own = await loginAnswer(testApp, {
      agentId: target,
      token: await mintHs256({ sub: fixtures.agent.userId }),
    });
    expect(own.answer).toBe('login:success');
    own.socket.disconnect();
  });

  it('a refused handshake token spends the IP budget; valid ones never do; the message says when to retry', async () => {
    testApp = await startApp({ RATE_LIMIT_LOGIN_MAX: '2', RATE_LIMIT_LOGIN_AGENT_MAX: '1000' });
    const token = await mintHs256({ sub: fixtures.agent.userId });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const socket = testApp.connect({ auth: { token } });
      await connected(socket);
      socket.disconnect();
    }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const socket = testApp.connect({ auth: { token: 'garbage' } });
      await expect(connected(socket)).rejects.toMatchObject({
        message: 'Connection refused: the token is invalid.',
        data: { code: 'AUTH_INVALID_TOKEN', message: 'Connection refused: the token is invalid.' },
      });
    }
    const refused = testApp.connect({ auth: { token: 'garbage' } });
    const error = (await connected(refused).catch((e: unknown) => e)) as { message: string; data: unknown };
    expect(error.message).toMatch(/^Connection refused: Too many failed login attempts\. Retry in \d+ s\.$/);
    expect(error.data).toEqual({ code: 'RATE_LIMITED', message: error.message });
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'ratelimit.blocked',
        target: 'connection',
        details: { scope: 'login', budget: 'ip', refusedWith: 'malformed' },
      }),
    );
    // Valid tokens and anonymous sockets still connect; agent:login failures share the budget.
    const valid = testApp.connect({ auth: { token } });
    await connected(valid);
    valid.disconnect();
    const anonymous = testApp.connect();
    await connected(anonymous);
    const failed = next<ErrorPayload>(anonymous, 'error');
    anonymous.emit('agent:login', { agentId: fixtures.agent.agentId, token: 'garbage' });
    expect((await failed).code).toBe('RATE_LIMITED');
    anonymous.disconnect();
  });
});

describe('HTTP rate limits', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ RATE_LIMIT_HTTP_MAX: '4' });
  });
  afterAll(() => testApp.close());

  it('HTTP /auth/* is limited per IP with 429 and the error envelope; health routes are exempt', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await request(testApp.url).post('/auth/ws-ticket')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const limited = await request(testApp.url).post('/auth/ws-ticket').expect(429);
    expect(limited.body).toEqual({ statusCode: 429, error: expect.any(String), code: 'RATE_LIMITED' });
    for (let i = 0; i < 10; i += 1) await request(testApp.url).get('/health').expect(200);
  });
});
