/**
 * The ids of the tickets already redeemed (DESIGN §3): a ticket is single-use across every
 * instance that accepts it. An id is remembered until `forgetAtMs` — when the ticket would be
 * refused as expired anyway — and may be forgotten after it.
 */
export abstract class RedeemedTickets {
  /** Records `jti` as redeemed; false when it already was (the ticket is being reused). */
  abstract claim(jti: string, forgetAtMs: number, nowMs: number): Promise<boolean>;
}

/** This process's redeemed ticket ids (one instance), forgotten as they pass their time. */
export class InMemoryRedeemedTickets extends RedeemedTickets {
  /** jti → forgetAtMs, in insertion order (≈ expiry order: every ticket lives as long). */
  private readonly redeemed = new Map<string, number>();

  claim(jti: string, forgetAtMs: number, nowMs: number): Promise<boolean> {
    this.forgetExpired(nowMs);
    if (this.redeemed.has(jti)) return Promise.resolve(false);
    this.redeemed.set(jti, forgetAtMs);
    return Promise.resolve(true);
  }

  private forgetExpired(nowMs: number): void {
    for (const [jti, forgetAtMs] of this.redeemed) {
      if (forgetAtMs < nowMs) this.redeemed.delete(jti);
      else break; // insertion order ≈ expiry order: nothing later has expired yet
    }
  }
}
