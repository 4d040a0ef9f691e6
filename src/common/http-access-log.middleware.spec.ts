import { redactUrl } from './http-access-log.middleware';

describe('redactUrl', () => {
  it.each([
    ['/metrics', '/metrics'],
    ['/metrics?key=s3cret-metrics-key', '/metrics?key=[REDACTED]'],
    ['/metrics?KEY=s3cret', '/metrics?KEY=[REDACTED]'],
    ['/metrics?%6Bey=s3cret', '/metrics?%6Bey=[REDACTED]'],
    [
      '/socket.io/?EIO=4&transport=polling&token=eyJ.abc.def',
      '/socket.io/?EIO=4&transport=polling&token=[REDACTED]',
    ],
    ['/x?a=1&ticket=t&b=2', '/x?a=1&ticket=[REDACTED]&b=2'],
    ['/x?key', '/x?key=[REDACTED]'],
    ['/x?monkey=1', '/x?monkey=1'],
    ['/x?%E0%A4%A=1', '/x?%E0%A4%A=1'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('never leaves the secret anywhere in the line', () => {
    const line = redactUrl('/metrics?key=abc123abc123abc123&key=def456def456def456');
    expect(line).not.toContain('abc123');
    expect(line).not.toContain('def456');
  });
});
