import { preferredFormat } from './exposition-format';

describe('preferredFormat (Accept negotiation of GET /metrics)', () => {
  it.each([
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain', 'prometheus'],
    ['text/plain; version=0.0.4', 'prometheus'],
    ['application/json', 'json'],
    ['application/openmetrics-text', 'openmetrics'],
    ['text/html', 'prometheus'],
    ['text/html, application/json;q=0.1', 'json'],
    ['application/*', 'openmetrics'],
    ['application/json;q=0, text/plain;q=0.1', 'prometheus'],
    // Prometheus 3's scrape header: OpenMetrics preferred, with parameters a strict negotiator rejects.
    [
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      'openmetrics',
    ],
    // Prometheus 2 with OpenMetrics off.
    ['text/plain;version=0.0.4;q=1,*/*;q=0.1', 'prometheus'],
    ['APPLICATION/JSON', 'json'],
    ['application/json;q=0.5, text/plain;q=0.5', 'json'],
    ['text/plain;q=0.5, application/json;q=0.5', 'prometheus'],
    // axios's default.
    ['application/json, text/plain, */*', 'json'],
  ])('%j → %s', (accept, expected) => {
    expect(preferredFormat(accept)).toBe(expected);
  });
});
