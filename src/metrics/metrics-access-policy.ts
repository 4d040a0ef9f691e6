import type { PresentedKey } from './metrics-api-key';

/** What the metrics access rules look at in one request. */
export interface MetricsAccessRequest {
  presented: PresentedKey | null;
  /** `x-internal-request: true` was sent. */
  claimsInternal: boolean;
  /** The client address (as Express sees it with TRUST_PROXY) is inside METRICS_INTERNAL_CIDRS. */
  fromInternalNetwork: boolean;
  /**
   * The request names forwarding (`X-Forwarded-For`, `Forwarded`) that TRUST_PROXY does not
   * trust: the address seen is a proxy's, not the client's, so it proves nothing about the client.
   */
  untrustedForwarding: boolean;
}

export interface MetricsAccessRules {
  keysConfigured: boolean;
  production: boolean;
  keyMatches(key: string): boolean;
}

export type MetricsAccessDecision =
  | { allow: true; reason: 'api_key' | 'internal_request' | 'development_open' }
  | { allow: false; reason: 'missing_key' | 'invalid_key' };

export interface MetricsAccessOutcome {
  decision: MetricsAccessDecision;
  /** Set when `x-internal-request` was sent and not honoured: recorded as `metrics.internal_spoof`. */
  spoof?: 'not_internal_network' | 'untrusted_forwarding';
}

/**
 * PROTOCOL §4 "Metrics authentication" as one pure function (the cool-down is the guard's):
 * with keys configured a presented key decides (403 when wrong); `x-internal-request` counts only
 * from an internal address that is really the client's; without keys, development is open and
 * production lets internal requests only — a presented key is then ignored, as there is nothing to
 * match it against; otherwise 401.
 */
export function decideMetricsAccess(
  request: MetricsAccessRequest,
  rules: MetricsAccessRules,
): MetricsAccessOutcome {
  const internal = request.claimsInternal && request.fromInternalNetwork && !request.untrustedForwarding;
  const spoof =
    request.claimsInternal && !internal
      ? request.untrustedForwarding
        ? ('untrusted_forwarding' as const)
        : ('not_internal_network' as const)
      : undefined;
  const decide = (): MetricsAccessDecision => {
    if (rules.keysConfigured && request.presented) {
      return rules.keyMatches(request.presented.key)
        ? { allow: true, reason: 'api_key' }
        : { allow: false, reason: 'invalid_key' };
    }
    if (internal) return { allow: true, reason: 'internal_request' };
    if (!rules.keysConfigured && !rules.production) return { allow: true, reason: 'development_open' };
    return { allow: false, reason: 'missing_key' };
  };
  return spoof ? { decision: decide(), spoof } : { decision: decide() };
}
