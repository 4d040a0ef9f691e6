/**
 * The failed-/metrics-attempt ledger of MetricsFailureCooldown's rules (PROTOCOL §4 step 5), as a
 * port: the same answers whether it is this process's memory or shared by every instance.
 */
export abstract class MetricsCooldownStore {
  /** Milliseconds left of this address's cool-down, 0 when it may try. */
  abstract remaining(ip: string): Promise<number>;

  /** Counts a wrong key from `ip`; true when it starts a cool-down. */
  abstract recordFailure(ip: string): Promise<boolean>;
}
