export type ExpositionFormat = 'prometheus' | 'openmetrics' | 'json';

const BY_MEDIA_TYPE: Record<string, ExpositionFormat> = {
  'text/plain': 'prometheus',
  'application/openmetrics-text': 'openmetrics',
  'application/json': 'json',
};
/** On equal preference the order of this list decides (Prometheus text first). */
const ORDER: readonly ExpositionFormat[] = ['prometheus', 'openmetrics', 'json'];

/**
 * The format an `Accept` header prefers, by media type and `q` alone. Parameters other than `q`
 * (`version=1.0.0`, `escaping=allow-utf-8`, which Prometheus 3 sends) do not make a type
 * unacceptable, as they would to a strict negotiator. Wildcards count; nothing acceptable, or no
 * header at all, means the Prometheus text: a scrape is never refused for its `Accept`.
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
      const better =
        !best || q > best.q || (q === best.q && ORDER.indexOf(format) < ORDER.indexOf(best.format));
      if (better) best = { format, q };
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
