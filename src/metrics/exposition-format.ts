export type ExpositionFormat = 'prometheus' | 'openmetrics' | 'json';

/** Also the order of preference among the formats one wildcard covers (Prometheus text first). */
const BY_MEDIA_TYPE: Record<string, ExpositionFormat> = {
  'text/plain': 'prometheus',
  'application/openmetrics-text': 'openmetrics',
  'application/json': 'json',
};

/**
 * The format an `Accept` header prefers, by media type and `q` alone. Parameters other than `q`
 * (`version=1.0.0`, `escaping=allow-utf-8`, which Prometheus 3 sends) do not make a type
 * unacceptable, as they would to a strict negotiator. On equal `q` the type listed first wins (so
 * axios's `application/json, text/plain, …` gets JSON). Wildcards count; nothing acceptable, or
 * no header at all, means the Prometheus text: a scrape is never refused for its `Accept`.
 */
export function preferredFormat(accept: string | undefined): ExpositionFormat {
  let best: { format: ExpositionFormat; q: number } | null = null;
  for (const entry of (accept ?? '').split(',')) {
    const [rawType, ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    if (!rawType) continue;
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    for (const format of formatsFor(rawType)) {
      if (!best || q > best.q) best = { format, q };
    }
  }
  return best?.format ?? 'prometheus';
}

function formatsFor(mediaType: string): ExpositionFormat[] {
  if (mediaType === '*/*') return ['prometheus'];
  if (mediaType.endsWith('/*')) {
    const family = mediaType.slice(0, -1);
    return Object.entries(BY_MEDIA_TYPE)
      .filter(([type]) => type.startsWith(family))
      .map(([, format]) => format);
  }
  const format = BY_MEDIA_TYPE[mediaType];
  return format ? [format] : [];
}
