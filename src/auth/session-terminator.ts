/**
 * Ends the live sessions of an agent wherever they are held. Declared here, in auth (which owns
 * sessions), and implemented by the transport that holds them (signaling's Socket.IO server), so
 * that auth can ask for a revocation to take effect now without importing signaling (DESIGN §1).
 */
export abstract class SessionTerminator {
  /**
   * Tells every session of `agentId` why it ends (`message`), then disconnects it.
   * Resolves with the number of sessions (sockets) that were disconnected.
   */
  abstract terminate(agentId: string, message: string): Promise<number>;
}
