/**
 * What the socket adapter reports about each event it dispatched to a handler: its name, how it
 * ended (`ok` or the error code the client was sent) and how long the whole edge took (throttle,
 * guard, validation, handler, filter). Metrics implements it; common only defines it.
 */
export abstract class SocketEventObserver {
  abstract observe(event: string, result: string, seconds: number): void;
}

const OUTCOME = Symbol('signalgate:event-outcome');

interface OutcomeCarrier {
  [OUTCOME]: { refusedWith?: string };
}

/**
 * The ack the adapter hands to one dispatch: forwards to the client's ack when it sent one, and
 * carries the refusal the error filter records for this very dispatch (events of one socket run
 * concurrently, so nothing per socket would do).
 */
export function trackedAck(
  clientAck: ((response: unknown) => void) | undefined,
): ((response: unknown) => void) & OutcomeCarrier {
  const ack = (response: unknown): void => clientAck?.(response);
  return Object.assign(ack, { [OUTCOME]: {} });
}

/** Called by the error filter with the ack of the dispatch it answered. */
export function recordRefusal(ack: unknown, code: string): void {
  if (typeof ack === 'function' && OUTCOME in ack)
    (ack as unknown as OutcomeCarrier)[OUTCOME].refusedWith = code;
}

export function refusalOf(ack: OutcomeCarrier): string | undefined {
  return ack[OUTCOME].refusedWith;
}
