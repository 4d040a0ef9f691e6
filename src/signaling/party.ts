/**
 * Who sent an event, as the domain services see it (no socket): a logged-in agent, the visitor
 * session the socket holds, or nobody. A visitor is named with its socket, because a session moves
 * to a new socket on reconnect and the old socket must lose it.
 */
export type Party =
  | { kind: 'agent'; agentId: string; orgId: string }
  | { kind: 'visitor'; visitorId: string; orgId: string; socketId: string }
  | { kind: 'anonymous' };

export type VisitorParty = Extract<Party, { kind: 'visitor' }>;

/** Binds a visitor session to the socket that asked (sets it on the socket and joins its room). */
export type VisitorBinder = (session: { visitorId: string; orgId: string }) => Promise<void>;
