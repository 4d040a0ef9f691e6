import type { AgentPool } from '../../auth/directory/directory.types';
import { domainMatches, pageLocation, pathMatches, poolForPage } from './page-rules';

describe('page rules (PROTOCOL §3 routing by page)', () => {
  describe('pageLocation', () => {
    it.each([
      ['https://Shop.Example.com:8443/pricing/?utm=x#top', { host: 'shop.example.com', path: '/pricing' }],
      ['http://example.com', { host: 'example.com', path: '/' }],
      ['https://example.com/a//', { host: 'example.com', path: '/a' }],
      ['https://example.com/%7Euser', { host: 'example.com', path: '/%7Euser' }],
    ])('%s → %j', (url, expected) => {
      expect(pageLocation(url)).toEqual(expected);
    });

    it.each(['not a url', '/relative/path', 'javascript:alert(1)', 'ftp://example.com/x', ''])(
      'refuses %j',
      (url) => {
        expect(pageLocation(url)).toBeNull();
      },
    );
  });

  describe('domain patterns', () => {
    it.each([
      ['*', 'anything.example', true],
      ['example.com', 'example.com', true],
      ['Example.COM', 'example.com', true],
      ['example.com', 'shop.example.com', false],
      ['*.example.com', 'shop.example.com', true],
      ['*.example.com', 'a.b.example.com', true],
      ['*.example.com', 'example.com', false],
      ['*.example.com', 'badexample.com', false],
      ['*.example.com', 'example.com.evil.net', false],
    ])('%s vs %s → %s', (pattern, host, expected) => {
      expect(domainMatches(pattern, host)).toBe(expected);
    });
  });

  describe('path patterns', () => {
    it.each([
      ['*', '/anything/at/all', true],
      ['/pricing', '/pricing', true],
      ['/pricing/', '/pricing', true],
      ['/pricing', '/pricing/eu', false],
      ['/pricing', '/Pricing', false],
      ['/docs/**', '/docs', true],
      ['/docs/**', '/docs/a/b/c', true],
      ['/docs/**', '/docsearch', false],
      ['/docs/*', '/docs/intro', true],
      ['/docs/*', '/docs/intro/more', false],
      ['/docs/*', '/docs', false],
      ['/docs*', '/docs', true],
      ['/docs*', '/docsearch', true],
      ['/docs*', '/doc', false],
      ['/**', '/', true],
      ['/**', '/x/y', true],
    ])('%s vs %s → %s', (pattern, path, expected) => {
      expect(pathMatches(pattern, path)).toBe(expected);
    });
  });

  describe('poolForPage', () => {
    const pools: Omit<AgentPool, 'widgetSettings'>[] = [
      {
        id: 'pool_general',
        orgId: 'org_a',
        name: 'General',
        isDefault: true,
        rules: [{ pathPattern: '*', domainPattern: 'support.example.com', priority: 1 }],
      },
      {
        id: 'pool_sales',
        orgId: 'org_a',
        name: 'Sales',
        isDefault: false,
        rules: [
          { pathPattern: '/pricing/**', domainPattern: '*', priority: 10 },
          { pathPattern: '/checkout*', domainPattern: '*.example.com', priority: 20 },
        ],
      },
      {
        id: 'pool_vip',
        orgId: 'org_a',
        name: 'VIP',
        isDefault: false,
        rules: [{ pathPattern: '/pricing/enterprise', domainPattern: 'example.com', priority: 30 }],
      },
    ];

    it.each([
      ['https://example.com/pricing/team', 'pool_sales'],
      ['https://example.com/pricing/enterprise', 'pool_vip'],
      ['https://www.example.com/pricing/enterprise', 'pool_sales'],
      ['https://shop.example.com/checkout/step-2', 'pool_sales'],
      ['https://support.example.com/pricing/x', 'pool_sales'],
      ['https://support.example.com/help', 'pool_general'],
      ['https://elsewhere.net/', 'pool_general'],
      ['not a url', 'pool_general'],
    ])('%s → %s', (url, expected) => {
      expect(poolForPage(url, pools)).toBe(expected);
    });

    it('breaks priority ties by the order pools and rules are listed', () => {
      const tied: Omit<AgentPool, 'widgetSettings'>[] = [
        {
          id: 'first',
          orgId: 'o',
          name: 'A',
          isDefault: false,
          rules: [{ pathPattern: '*', domainPattern: '*', priority: 5 }],
        },
        {
          id: 'second',
          orgId: 'o',
          name: 'B',
          isDefault: false,
          rules: [{ pathPattern: '*', domainPattern: '*', priority: 5 }],
        },
      ];
      expect(poolForPage('https://x.test/', tied)).toBe('first');
    });

    it('answers null (any agent of the organisation) when nothing matches and there is no default pool', () => {
      const noDefault = pools.map((pool) => ({ ...pool, isDefault: false }));
      expect(poolForPage('https://elsewhere.net/', noDefault)).toBeNull();
    });
  });
});
