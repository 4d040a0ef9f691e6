import { Socket } from 'socket.io-client';
import type { AgentState, ErrorPayload } from '../../src/signaling/protocol';
import { connected, disconnected, next, TestApp } from './app';
import { fixtures } from './directory-fixtures';

/** Connects a fresh socket and logs `agentId` in with `token`; resolves with login:success's state. */
export async function login(
  testApp: TestApp,
  token: string,
  agentId = fixtures.agent.agentId,
): Promise<{ socket: Socket; state: AgentState }> {
  const socket = testApp.connect();
  await connected(socket);
  const success = next<{ agentState: AgentState }>(socket, 'login:success');
  socket.emit('agent:login', { agentId, token });
  return { socket, state: (await success).agentState };
}

/** Sends agent:login and expects `error {code}` followed by the server disconnecting the socket. */
export async function expectLoginRefused(
  testApp: TestApp,
  payload: Record<string, unknown>,
  code: string,
): Promise<ErrorPayload> {
  const socket = testApp.connect();
  await connected(socket);
  const error = next<ErrorPayload>(socket, 'error');
  const closed = disconnected(socket);
  socket.emit('agent:login', payload);
  const received = await error;
  expect(received).toEqual(expect.objectContaining({ code, event: 'agent:login' }));
  expect(await closed).toBe('io server disconnect');
  return received;
}
