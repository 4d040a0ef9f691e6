import { Socket } from 'socket.io-client';
import type { AgentState, ErrorPayload } from '../../src/signaling/protocol';
import { connected, next, TestApp } from './app';
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

/**
 * Sends agent:login on a fresh socket and expects `error {code}`, with the socket left connected
 * (PROTOCOL §2.1: the existing dashboard would reconnect and log in again in a loop); closes it.
 */
export async function expectLoginRefused(
  testApp: TestApp,
  payload: Record<string, unknown>,
  code: string,
): Promise<ErrorPayload> {
  const socket = testApp.connect();
  await connected(socket);
  const error = next<ErrorPayload>(socket, 'error');
  let closed = false;
  socket.on('disconnect', () => (closed = true));
  socket.emit('agent:login', payload);
  const received = await error;
  expect(received).toEqual(expect.objectContaining({ code, event: 'agent:login' }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(closed).toBe(false);
  socket.disconnect();
  return received;
}
