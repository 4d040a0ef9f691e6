import { Logger, Module } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { IsString, MaxLength } from 'class-validator';
import { AuthModule } from '../src/auth/auth.module';
import { CallParty, CurrentSpeaker, Speaker } from '../src/auth/decorators/call-party.decorator';
import { VisitorAccess } from '../src/auth/decorators/visitor-access.decorator';
import { SocketEdge } from '../src/common/socket/socket-edge.decorator';
import { login } from './helpers/agent';
import { connected, next, request as ask, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { mintHs256 } from './helpers/keys';

class EchoDto {
  @IsString()
  @MaxLength(10)
  text!: string;
}

/** A gateway written the way a new feature would be: @SocketEdge on the class, one access rule per handler. */
@WebSocketGateway()
@SocketEdge()
class ProbeGateway {
  @VisitorAccess()
  @SubscribeMessage('probe:boom')
  boom(): never {
    throw new Error('database password is hunter2');
  }

  @VisitorAccess()
  @SubscribeMessage('probe:echo')
  echo(@MessageBody() body: EchoDto): { success: true; text: string } {
    return { success: true, text: body.text };
  }

  @CallParty()
  @SubscribeMessage('probe:who')
  who(@CurrentSpeaker() speaker: Speaker): Speaker {
    return speaker;
  }
}

@Module({ imports: [AuthModule], providers: [ProbeGateway] })
class ProbeModule {}

describe('the socket edge (@SocketEdge: throttle → access → validation → filter)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({}, 0, { imports: [ProbeModule] });
  });
  afterAll(() => testApp.close());
  afterEach(() => jest.restoreAllMocks());

  it('turns an unexpected error into INTERNAL_ERROR, logged once with its stack, never echoed', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const socket = testApp.connect();
    await connected(socket);
    const error = next(socket, 'error');
    const ack = await ask(socket, 'probe:boom', { anything: true });
    const expected = { code: 'INTERNAL_ERROR', message: 'Internal server error.' };
    expect(ack).toEqual({ success: false, error: expected });
    expect(await error).toEqual({ ...expected, event: 'probe:boom' });
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0][1]).toEqual(expect.stringContaining('Error: database password is hunter2'));
    // The socket survives an internal error.
    expect(socket.connected).toBe(true);
    socket.disconnect();
  });

  it('validates with field details and never echoes the payload', async () => {
    const socket = testApp.connect();
    await connected(socket);
    expect(await ask(socket, 'probe:echo', { text: 'hi' })).toEqual({ success: true, text: 'hi' });
    const error = next(socket, 'error');
    socket.emit('probe:echo', { text: 'far-too-long-text', injected: '<script>' });
    const received = await error;
    expect(received).toEqual({
      code: 'INVALID_PAYLOAD',
      message: expect.any(String),
      event: 'probe:echo',
      details: expect.arrayContaining([
        expect.objectContaining({ field: 'text' }),
        expect.objectContaining({ field: 'injected' }),
      ]),
    });
    expect(JSON.stringify(received)).not.toContain('<script>');
    expect(JSON.stringify(received)).not.toContain('far-too-long-text');
    for (const payload of ['text', 42, null, ['text']]) {
      const refused = next<{ code: string }>(socket, 'error');
      socket.emit('probe:echo', payload);
      expect((await refused).code).toBe('INVALID_PAYLOAD');
    }
    socket.disconnect();
  });

  it('@CallParty resolves the speaker: anonymous, then the logged-in agent; an unauthenticated agent claim is refused', async () => {
    const anonymous = testApp.connect();
    await connected(anonymous);
    expect(await ask(anonymous, 'probe:who', {})).toEqual({ kind: 'anonymous' });
    const refused = next(anonymous, 'error');
    anonymous.emit('probe:who', { role: 'agent' });
    expect(await refused).toEqual(expect.objectContaining({ code: 'AUTH_REQUIRED', event: 'probe:who' }));
    anonymous.disconnect();

    const { agent } = fixtures;
    const { socket } = await login(testApp, await mintHs256({ sub: agent.userId }));
    expect(await ask(socket, 'probe:who', { role: 'agent' })).toEqual({
      kind: 'agent',
      agentId: agent.agentId,
      orgId: agent.orgId,
      socketId: socket.id,
      userId: agent.userId,
    });
    socket.disconnect();
  });
});
