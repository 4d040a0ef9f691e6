import request from 'supertest';
import { AgentDirectory } from '../src/auth/directory/agent-directory.service';
import { AccessDeclarationChecker } from '../src/common/access/access-declaration.checker';
import type { AgentState, ErrorPayload, StatusAck } from '../src/signaling/protocol';
import { expectLoginRefused, login } from './helpers/agent';
import { connected, disconnected, next, request as ask, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';

const { agent, otherAgent, disabledAgent, pausedAgent } = fixtures;
const AUTH_REQUIRED = {
  code: 'AUTH_REQUIRED',
  message: 'Not authenticated as agent. Please login first.',
};

describe('agent authentication (HS256)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp();
  });
  afterAll(() => testApp.close());

  it('scenario 1: a valid token logs the agent in with the directory profile, then stats:update', async () => {
    const token = await mintHs256({ sub: agent.userId });
    const socket = testApp.connect();
    await connected(socket);
    const success = next<{ agentState: AgentState }>(socket, 'login:success');
    const stats = next<{ poolVisitors: number }>(socket, 'stats:update');
    socket.emit('agent:login', {
      agentId: agent.agentId,
      token,
      profile: { displayName: 'Mallory (forged)', avatarUrl: 'https://evil.example/x.png' },
    });
    const { agentState } = await success;
    expect(agentState).toEqual(
      expect.objectContaining({
        agentId: agent.agentId,
        socketId: socket.id,
        status: 'away',
        currentCallVisitorId: null,
        connectedAt: expect.any(Number),
        lastActivityAt: expect.any(Number),
        pools: expect.any(Array),
      }),
    );
    // PROTOCOL fix: the directory's profile, never the client's.
    expect(agentState.profile).toEqual(
      expect.objectContaining({
        id: agent.agentId,
        displayName: agent.displayName,
        userId: agent.userId,
        status: 'away',
      }),
    );
    expect(await stats).toEqual({ poolVisitors: 0 });
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.login',
        outcome: 'success',
        method: 'hs256',
        actor: expect.objectContaining({ agentId: agent.agentId }),
      }),
    );
    // Logged in: agent events now work.
    expect(await ask(socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    socket.disconnect();
  });

  it('scenario 2: an invalid token is refused (AUTH_INVALID_TOKEN); the socket stays connected', async () => {
    const forged = await mintHs256(
      { sub: agent.userId },
      { secret: 'not-the-configured-secret-0123456789abcdef' },
    );
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: forged }, 'AUTH_INVALID_TOKEN');
    expect(testApp.events).toContainEqual(
      expect.objectContaining({ type: 'auth.login', outcome: 'failure', reason: 'bad_signature' }),
    );
  });

  it('scenario 3: a token of another user is refused (AUTH_AGENT_MISMATCH)', async () => {
    const token = await mintHs256({ sub: otherAgent.userId });
    await expectLoginRefused(testApp, { agentId: agent.agentId, token }, 'AUTH_AGENT_MISMATCH');
  });

  it('scenario 4: agent events without login get AUTH_REQUIRED with the exact payload', async () => {
    const socket = testApp.connect();
    await connected(socket);
    for (const [event, payload] of [
      ['agent:status', { status: 'idle' }],
      ['agent:away', { reason: 'manual' }],
      ['agent:back', undefined],
      ['agent:logout', undefined],
      ['heartbeat', { timestamp: Date.now() }],
    ] as const) {
      const error = next(socket, 'error');
      if (payload === undefined) socket.emit(event);
      else socket.emit(event, payload);
      expect(await error).toEqual({ ...AUTH_REQUIRED, event });
    }
    // The handshake identity alone does not grant agent authority either.
    const withHandshake = testApp.connect({ auth: { token: await mintHs256({ sub: agent.userId }) } });
    await connected(withHandshake);
    const error = next(withHandshake, 'error');
    withHandshake.emit('agent:status', { status: 'idle' });
    expect(await error).toEqual({ ...AUTH_REQUIRED, event: 'agent:status' });
    socket.disconnect();
    withHandshake.disconnect();
  });

  it('every event declared @AgentAuth() answers AUTH_REQUIRED to an anonymous socket, even with a valid payload', async () => {
    // Taken from the app's own declarations, so an agent event added later is covered too.
    const agentEvents = testApp.app
      .get(AccessDeclarationChecker)
      .enumerate()
      .filter((handler) => handler.transport === 'ws' && handler.kinds.includes('agent'))
      .map((handler) => handler.event!);
    expect(agentEvents).toEqual(expect.arrayContaining(['agent:logout', 'agent:status', 'heartbeat']));
    const socket = testApp.connect();
    await connected(socket);
    for (const event of agentEvents) {
      const error = next(socket, 'error');
      socket.emit(event, { status: 'idle' });
      expect(await error).toEqual({ ...AUTH_REQUIRED, event });
    }
    expect(socket.connected).toBe(true);
    socket.disconnect();
  });

  it('answers the ack too when the client asked for one', async () => {
    const socket = testApp.connect();
    await connected(socket);
    const response = await ask(socket, 'agent:back');
    expect(response).toEqual({ success: false, error: AUTH_REQUIRED });
    socket.disconnect();
  });

  it('refuses each login failure with its code; the socket stays connected', async () => {
    const before = testApp.events.length;
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: 'garbage' }, 'AUTH_INVALID_TOKEN');
    // An unverified claim is never recorded as the actor.
    const refusal = testApp.events.slice(before).find((e) => e.type === 'auth.login')!;
    expect(refusal.actor).toBeUndefined();
    expect(refusal.details).toEqual({ claimedAgentId: agent.agentId });
    await expectLoginRefused(testApp, { agentId: agent.agentId }, 'AUTH_INVALID_TOKEN');
    const expired = await mintHs256({ sub: agent.userId, exp: Math.floor(Date.now() / 1000) - 60 });
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: expired }, 'AUTH_EXPIRED');
    const stranger = await mintHs256({ sub: 'ffffffff-0000-4000-8000-00000000dead' });
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: stranger }, 'AUTH_PROFILE_NOT_FOUND');
    const disabled = await mintHs256({ sub: disabledAgent.userId });
    await expectLoginRefused(
      testApp,
      { agentId: disabledAgent.agentId, token: disabled },
      'AUTH_AGENT_DISABLED',
    );
  });

  it('refuses tokens issued before a revocation (AUTH_REVOKED), accepts later ones', async () => {
    const before = await mintHs256({ sub: otherAgent.userId, iat: Math.floor(Date.now() / 1000) - 10 });
    await testApp.app.get(AgentDirectory).revoke(otherAgent.agentId, Math.floor(Date.now() / 1000) - 5);
    await expectLoginRefused(testApp, { agentId: otherAgent.agentId, token: before }, 'AUTH_REVOKED');
    const after = await mintHs256({ sub: otherAgent.userId });
    const { socket } = await login(testApp, after, otherAgent.agentId);
    socket.disconnect();
  });

  it('validates payloads after the access check: bad status, server-owned status, unknown fields', async () => {
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId }));
    for (const payload of [{ status: 'in_call' }, { status: 'idle', extra: 1 }, 'idle', { status: 42 }]) {
      const error = next<ErrorPayload>(socket, 'error');
      socket.emit('agent:status', payload);
      const received = await error;
      expect(received).toEqual(
        expect.objectContaining({
          code: 'INVALID_PAYLOAD',
          event: 'agent:status',
          details: expect.any(Array),
        }),
      );
      expect(JSON.stringify(received)).not.toContain('extra":1');
    }
    expect(await ask(socket, 'agent:status', { status: 'offline' })).toEqual({
      success: true,
      status: 'offline',
    });
    socket.disconnect();
  });

  it('refuses any field on the payload-less events agent:back and agent:logout, changing nothing', async () => {
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId }));
    for (const event of ['agent:back', 'agent:logout']) {
      const response = await ask<StatusAck>(socket, event, { evil: 1 });
      expect(response).toEqual({
        success: false,
        error: expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
      });
    }
    // Still logged in and still away: neither event ran.
    expect(await ask(socket, 'agent:status', { status: 'away' })).toEqual({ success: true, status: 'away' });
    expect(await ask(socket, 'agent:back', {})).toEqual({ success: true, status: 'idle' });
    socket.disconnect();
  });

  it('several tabs of one agent share presence; a login on a logged-in socket refreshes without reset', async () => {
    const token = await mintHs256({ sub: agent.userId });
    const first = await login(testApp, token);
    expect(await ask(first.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    const second = await login(testApp, token);
    expect(second.state.status).toBe('idle');
    // Refresh on the first tab: same state back, status not reset.
    const again = next<{ agentState: AgentState }>(first.socket, 'login:success');
    first.socket.emit('agent:login', {
      agentId: agent.agentId,
      token: await mintHs256({ sub: agent.userId }),
    });
    expect((await again).agentState).toEqual(
      expect.objectContaining({ status: 'idle', connectedAt: first.state.connectedAt }),
    );
    expect(testApp.events).toContainEqual(
      expect.objectContaining({ type: 'auth.refresh', outcome: 'success' }),
    );
    first.socket.disconnect();
    second.socket.disconnect();
  });

  it('agent:away / agent:back / agent:logout with acks; logout clears the socket’s authentication', async () => {
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId }));
    expect(await ask(socket, 'agent:away', { reason: 'manual' })).toEqual({ success: true, status: 'away' });
    expect(await ask(socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    socket.emit('heartbeat', { timestamp: Date.now() });
    expect(await ask(socket, 'agent:logout')).toEqual({ success: true });
    expect(await ask(socket, 'agent:back')).toEqual({ success: false, error: AUTH_REQUIRED });
    socket.disconnect();
  });

  it('an agent of a paused organisation may log in but not become available', async () => {
    const { socket } = await login(
      testApp,
      await mintHs256({ sub: pausedAgent.userId }),
      pausedAgent.agentId,
    );
    const back = await ask<StatusAck>(socket, 'agent:back');
    expect(back).toEqual({ success: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    const error = next<ErrorPayload>(socket, 'error');
    socket.emit('agent:status', { status: 'idle' });
    expect(await error).toEqual(expect.objectContaining({ code: 'FORBIDDEN', event: 'agent:status' }));
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.forbidden',
        reason: 'organization_paused',
        target: 'agent:status',
        actor: expect.objectContaining({ agentId: pausedAgent.agentId }),
      }),
    );
    expect(await ask(socket, 'agent:status', { status: 'away' })).toEqual({ success: true, status: 'away' });
    socket.disconnect();
  });

  it('a reconnect within the disconnect grace restores the previous status', async () => {
    const token = await mintHs256({ sub: agent.userId });
    const first = await login(testApp, token);
    expect(await ask(first.socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    first.socket.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await login(testApp, token);
    expect(second.state.status).toBe('idle');
    second.socket.disconnect();
  });

  it('tickets: POST /auth/ws-ticket, usable once in agent:login and in the handshake', async () => {
    const token = await mintHs256({ sub: agent.userId });
    await request(testApp.url).post('/auth/ws-ticket').expect(401);
    const issue = async (): Promise<string> => {
      const res = await request(testApp.url)
        .post('/auth/ws-ticket')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.body).toEqual({ ticket: expect.any(String), expiresIn: 60 });
      return res.body.ticket as string;
    };
    const ticket = await issue();
    const { socket } = await login(testApp, ticket);
    socket.disconnect();
    await expectLoginRefused(testApp, { agentId: agent.agentId, token: ticket }, 'AUTH_INVALID_TOKEN');

    const handshakeTicket = await issue();
    const viaHandshake = testApp.connect({ query: { token: handshakeTicket } });
    await connected(viaHandshake);
    const success = next(viaHandshake, 'login:success');
    viaHandshake.emit('agent:login', { agentId: agent.agentId });
    await success;
    viaHandshake.disconnect();
    const reused = testApp.connect({ query: { token: handshakeTicket } });
    await expect(connected(reused)).rejects.toMatchObject({ data: { code: 'AUTH_INVALID_TOKEN' } });
    expect(JSON.stringify(testApp.events)).not.toContain(ticket);
    expect(JSON.stringify(testApp.events)).not.toContain(token);
  });

  it('tickets are refused once their 60 seconds have passed', async () => {
    const token = await mintHs256({ sub: agent.userId });
    const res = await request(testApp.url).post('/auth/ws-ticket').set('Authorization', `Bearer ${token}`);
    const ticket = res.body.ticket as string;
    // Move only the app's clock (Date), not timers, 61 s ahead.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'setTimeout',
        'setInterval',
        'queueMicrotask',
        'clearTimeout',
        'clearInterval',
        'clearImmediate',
        'hrtime',
        'performance',
      ],
    });
    try {
      jest.setSystemTime(Date.now() + 61_000);
      await expectLoginRefused(testApp, { agentId: agent.agentId, token: ticket }, 'AUTH_INVALID_TOKEN');
    } finally {
      jest.useRealTimers();
    }
  });

  it('handshake: a valid token in each of the three places connects; an invalid one is refused', async () => {
    const token = await mintHs256({ sub: agent.userId });
    for (const options of [
      { extraHeaders: { Authorization: `Bearer ${token}` } },
      { query: { token } },
      { auth: { token } },
    ]) {
      const socket = testApp.connect(options);
      await connected(socket);
      // The handshake identity lets agent:login omit its token.
      const success = next(socket, 'login:success');
      socket.emit('agent:login', { agentId: agent.agentId });
      await success;
      socket.disconnect();
    }
    const bad = testApp.connect({ auth: { token: 'not-a-token' } });
    // The message says what happened: the existing dashboard shows only `message`.
    await expect(connected(bad)).rejects.toMatchObject({
      message: 'Connection refused: the token is invalid.',
      data: { code: 'AUTH_INVALID_TOKEN', message: 'Connection refused: the token is invalid.' },
    });
    const expired = testApp.connect({
      auth: { token: await mintHs256({ sub: agent.userId, exp: Math.floor(Date.now() / 1000) - 60 }) },
    });
    await expect(connected(expired)).rejects.toMatchObject({
      message: 'Connection refused: the token has expired. Sign in again.',
      data: { code: 'AUTH_EXPIRED' },
    });
  });
});

describe('agent authentication: expiry', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ AUTH_CLOCK_TOLERANCE_S: '0', AUTH_EXPIRY_GRACE_MS: '1500' });
  });
  afterAll(() => testApp.close());

  it('after exp: AUTH_EXPIRED on agent events, then disconnected after the grace', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId, exp }));
    const closed = disconnected(socket, 8000);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 1100));
    expect(await ask<StatusAck>(socket, 'agent:back')).toEqual({
      success: false,
      error: expect.objectContaining({ code: 'AUTH_EXPIRED' }),
    });
    const finalError = next<ErrorPayload>(socket, 'error', 5000);
    expect(await closed).toBe('io server disconnect');
    // The last word before the disconnect: nothing the client sent failed, so no `event`.
    expect(await finalError).toEqual({ code: 'AUTH_EXPIRED', message: expect.any(String) });
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.expired',
        reason: 'expired_not_refreshed',
        target: 'connection',
      }),
    );
  });

  it('a refresh before the grace ends keeps the socket', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId, exp }));
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 1100));
    const refreshed = next(socket, 'login:success');
    socket.emit('agent:login', { agentId: agent.agentId, token: await mintHs256({ sub: agent.userId }) });
    await refreshed;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(socket.connected).toBe(true);
    expect(await ask(socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    socket.disconnect();
  });
});

describe('scenario 14: development fallback (no key source, not production)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ AUTH_JWT_SECRET: '' });
  });
  afterAll(() => testApp.close());

  it('trusts the claimed agentId if it exists in the directory, and records each bypass', async () => {
    const { state } = await login(testApp, 'any-string-at-all');
    expect(state.agentId).toBe(agent.agentId);
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.dev_bypass',
        outcome: 'success',
        actor: expect.objectContaining({ agentId: agent.agentId }),
      }),
    );
    await expectLoginRefused(testApp, { agentId: 'agent_nobody', token: 'x' }, 'AUTH_PROFILE_NOT_FOUND');
    // One warning at boot, not one per login.
    const warnings = testApp.events.filter(
      (e) => e.type === 'config.warning' && e.reason === 'dev_bypass_enabled',
    );
    expect(warnings).toHaveLength(1);
  });

  it('at the handshake: a decodable token identifies its sub (recorded as a bypass); a non-JWT is refused', async () => {
    const before = testApp.events.length;
    const identified = testApp.connect({
      auth: { token: await mintHs256({ sub: agent.userId }, { secret: 'x'.repeat(32) }) },
    });
    await connected(identified);
    const success = next(identified, 'login:success');
    identified.emit('agent:login', { agentId: agent.agentId });
    await success;
    identified.disconnect();
    expect(testApp.events.slice(before)).toContainEqual(
      expect.objectContaining({
        type: 'auth.dev_bypass',
        target: 'connection',
        actor: { userId: agent.userId },
      }),
    );
    const nobody = testApp.connect({ auth: { token: 'not-a-jwt' } });
    await expect(connected(nobody)).rejects.toMatchObject({ data: { code: 'AUTH_INVALID_TOKEN' } });
  });
});

describe('scenario 12: socket reconnect after a server restart', () => {
  it('must re-authenticate with agent:login: nothing survives in socket.data', async () => {
    const first = await startApp();
    const port = Number(new URL(first.url).port);
    const token = await mintHs256({ sub: agent.userId });
    const { socket } = await login(first, token);
    expect(await ask(socket, 'agent:back')).toEqual({ success: true, status: 'idle' });
    socket.io.reconnection(true).reconnectionDelay(100).reconnectionDelayMax(200);
    const reconnected = next(socket, 'connect', 10_000);
    await first.close({ keepClients: true });
    const second = await startApp({ PORT: String(port) }, port);
    try {
      await reconnected;
      expect(await ask(socket, 'agent:back')).toEqual({ success: false, error: AUTH_REQUIRED });
      const success = next(socket, 'login:success');
      socket.emit('agent:login', { agentId: agent.agentId, token });
      await success;
    } finally {
      socket.disconnect();
      await second.close();
    }
  });
});
