import { decideMetricsAccess, MetricsAccessRequest, MetricsAccessRules } from './metrics-access-policy';

const RIGHT = 'right-key-0123456789';
const keyed: MetricsAccessRules = {
  keysConfigured: true,
  production: true,
  keyMatches: (key) => key === RIGHT,
};
const keylessProduction: MetricsAccessRules = {
  keysConfigured: false,
  production: true,
  keyMatches: () => false,
};
const keylessDevelopment: MetricsAccessRules = { ...keylessProduction, production: false };

const request = (overrides: Partial<MetricsAccessRequest> = {}): MetricsAccessRequest => ({
  presented: null,
  claimsInternal: false,
  fromInternalNetwork: false,
  untrustedForwarding: false,
  ...overrides,
});
const key = (value: string): MetricsAccessRequest['presented'] => ({ key: value, source: 'header' });

describe('decideMetricsAccess (PROTOCOL §4 metrics authentication)', () => {
  it.each([
    ['keys: the right key', keyed, request({ presented: key(RIGHT) }), 'api_key'],
    ['keys: a wrong key', keyed, request({ presented: key('wrong') }), 'invalid_key'],
    [
      'keys: a wrong key from inside with the header',
      keyed,
      request({ presented: key('wrong'), claimsInternal: true, fromInternalNetwork: true }),
      'invalid_key',
    ],
    ['keys: no key', keyed, request(), 'missing_key'],
    [
      'keys: no key, internal header from inside',
      keyed,
      request({ claimsInternal: true, fromInternalNetwork: true }),
      'internal_request',
    ],
    ['keys: no key, internal header from outside', keyed, request({ claimsInternal: true }), 'missing_key'],
    [
      'keys: an inside address that is a proxy',
      keyed,
      request({ claimsInternal: true, fromInternalNetwork: true, untrustedForwarding: true }),
      'missing_key',
    ],
    [
      'keys: an inside address without the header',
      keyed,
      request({ fromInternalNetwork: true }),
      'missing_key',
    ],
    ['production without keys: no key', keylessProduction, request(), 'missing_key'],
    [
      'production without keys: a key is ignored',
      keylessProduction,
      request({ presented: key(RIGHT) }),
      'missing_key',
    ],
    [
      'production without keys: internal',
      keylessProduction,
      request({ presented: key('x'), claimsInternal: true, fromInternalNetwork: true }),
      'internal_request',
    ],
    ['development without keys: open', keylessDevelopment, request(), 'development_open'],
    [
      'development without keys: a key is ignored',
      keylessDevelopment,
      request({ presented: key('x') }),
      'development_open',
    ],
    ['development with keys: enforced', { ...keyed, production: false }, request(), 'missing_key'],
  ])('%s → %s', (_name, rules, input, reason) => {
    expect(decideMetricsAccess(input, rules).decision.reason).toBe(reason);
  });

  it('reports an internal header it did not honour, and why', () => {
    expect(decideMetricsAccess(request({ claimsInternal: true }), keyed).spoof).toBe('not_internal_network');
    expect(
      decideMetricsAccess(
        request({ claimsInternal: true, fromInternalNetwork: true, untrustedForwarding: true }),
        keyed,
      ).spoof,
    ).toBe('untrusted_forwarding');
    // Even when a right key lets the request in.
    expect(decideMetricsAccess(request({ claimsInternal: true, presented: key(RIGHT) }), keyed)).toEqual({
      decision: { allow: true, reason: 'api_key' },
      spoof: 'not_internal_network',
    });
    expect(
      decideMetricsAccess(request({ claimsInternal: true, fromInternalNetwork: true }), keyed).spoof,
    ).toBeUndefined();
    expect(decideMetricsAccess(request(), keyed).spoof).toBeUndefined();
  });
});
