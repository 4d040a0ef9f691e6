/** What a request is told when the shared state (Redis) does not answer: nothing changed, retry. */
export const STATE_UNAVAILABLE_MESSAGE = 'The service cannot reach its shared state right now; please retry.';

/**
 * True for ioredis's failures of an unreachable server (no connection and no offline queue, the
 * retry budget spent, a command timed out, the connection closed under it) — as opposed to a bug.
 */
export function isStateUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /Stream isn't writeable|Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET/.test(
    error.message,
  );
}
