/**
 * How a service attaches a visitor session to the socket that asked, without knowing sockets:
 * `bind` sets the session on the socket and joins its room (leaving any previous one), `unbind`
 * removes it.
 */
export interface VisitorBinding {
  bind(session: { visitorId: string; orgId: string }): Promise<void>;
  unbind(): Promise<void>;
}
