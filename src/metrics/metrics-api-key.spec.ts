import type { Request } from 'express';
import { KeyRing, presentedKey } from './metrics-api-key';

/** The two things `presentedKey` reads of a request: its headers (case-insensitive) and its query. */
function req(headers: Record<string, string> = {}, query: Record<string, unknown> = {}): Request {
  const byName = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { get: (name: string) => byName.get(name.toLowerCase()), query } as unknown as Request;
}

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('presentedKey', () => {
  it('reads x-metrics-api-key', () => {
    expect(presentedKey(req({ 'X-Metrics-Api-Key': 'k1' }))).toEqual({ key: 'k1', source: 'header' });
  });

  it.each(['Bearer', 'bearer', 'BEARER'])('reads Authorization: %s <key>', (scheme) => {
    expect(presentedKey(req({ authorization: `${scheme} k2` }))).toEqual({ key: 'k2', source: 'bearer' });
    expect(presentedKey(req({ authorization: `${scheme}   k2` }))).toEqual({ key: 'k2', source: 'bearer' });
  });

  it.each([
    ['prometheus:k3', 'k3'],
    [':k3', 'k3'],
    ['user@example.com:k3', 'k3'],
    // Only the first colon separates: a password may hold more.
    ['user:k3:with:colons', 'k3:with:colons'],
    ['üser:kéy', 'kéy'],
  ])('reads the password of basic auth %j, whatever the user name', (credentials, key) => {
    expect(presentedKey(req({ authorization: basic(credentials) }))).toEqual({ key, source: 'basic' });
    expect(presentedKey(req({ authorization: basic(credentials).replace('Basic', 'basic') }))).toEqual({
      key,
      source: 'basic',
    });
  });

  it('reads ?key=', () => {
    expect(presentedKey(req({}, { key: 'k4' }))).toEqual({ key: 'k4', source: 'query' });
  });

  it('prefers the header, then bearer, then basic, then the query', () => {
    const query = { key: 'from-query' };
    expect(
      presentedKey(req({ 'x-metrics-api-key': 'from-header', authorization: 'Bearer from-bearer' }, query)),
    ).toEqual({ key: 'from-header', source: 'header' });
    expect(presentedKey(req({ authorization: 'Bearer from-bearer' }, query))).toEqual({
      key: 'from-bearer',
      source: 'bearer',
    });
    expect(presentedKey(req({ authorization: basic('u:from-basic') }, query))).toEqual({
      key: 'from-basic',
      source: 'basic',
    });
  });

  it.each([
    ['no colon', basic('just-a-password')],
    ['an empty password', basic('user:')],
    ['nothing at all', basic('')],
    ['no credentials', 'Basic'],
    ['only spaces after the scheme', 'Basic    '],
    ['not base64', 'Basic !!!***'],
  ])('finds no key in malformed basic auth: %s', (_case, authorization) => {
    expect(presentedKey(req({ authorization }))).toBeNull();
  });

  it.each([
    ['Bearer without a token', { authorization: 'Bearer' }],
    ['Bearer and spaces', { authorization: 'Bearer   ' }],
    ['another scheme', { authorization: 'Token k5' }],
    ['a bare key in Authorization', { authorization: 'k5' }],
    ['an empty x-metrics-api-key', { 'x-metrics-api-key': '' }],
    ['an empty Authorization', { authorization: '' }],
  ])('finds no key in %s', (_case, headers) => {
    expect(presentedKey(req(headers))).toBeNull();
  });

  it('finds no key in an empty, repeated or structured ?key=', () => {
    expect(presentedKey(req({}, { key: '' }))).toBeNull();
    expect(presentedKey(req({}, { key: ['a', 'b'] }))).toBeNull();
    expect(presentedKey(req({}, { key: { nested: 'a' } }))).toBeNull();
    expect(presentedKey(req({}, { other: 'a' }))).toBeNull();
    expect(presentedKey(req())).toBeNull();
  });

  it('an empty header lets a later source speak', () => {
    expect(presentedKey(req({ 'x-metrics-api-key': '' }, { key: 'k6' }))).toEqual({
      key: 'k6',
      source: 'query',
    });
  });
});

describe('KeyRing', () => {
  const keys = ['first-key-0123456789', 'second-key-abcdefghij', 'ключ-третий-0123456'];
  const ring = new KeyRing(keys);

  it('matches every configured key', () => {
    expect(ring.size).toBe(3);
    for (const key of keys) expect(ring.matches(key)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['a prefix', 'first-key-012345678'],
    ['a suffix added', 'first-key-0123456789x'],
    ['a proper suffix', 'irst-key-0123456789'],
    ['a leading space', ' first-key-0123456789'],
    ['a trailing newline', 'first-key-0123456789\n'],
    ['another case', 'FIRST-KEY-0123456789'],
    ['two keys joined', 'first-key-0123456789,second-key-abcdefghij'],
    ['an unrelated key', 'not-configured-key-000'],
  ])('refuses %s', (_case, candidate) => {
    expect(ring.matches(candidate)).toBe(false);
  });

  it('an empty ring matches nothing, not even the empty string', () => {
    const empty = new KeyRing([]);
    expect(empty.size).toBe(0);
    expect(empty.matches('')).toBe(false);
    expect(empty.matches('first-key-0123456789')).toBe(false);
  });

  it('a ring of one matches only it', () => {
    const one = new KeyRing(['only-key-0123456789']);
    expect(one.matches('only-key-0123456789')).toBe(true);
    expect(one.matches(keys[0])).toBe(false);
  });
});
