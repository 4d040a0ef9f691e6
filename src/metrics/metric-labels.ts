/**
 * Label values must come from small, fixed sets (never an id). Values built from codes, reasons
 * and route templates already do; this is the last line of defence against a value that would
 * explode cardinality: anything that does not look like a short code becomes `other`.
 */
const CODE_LIKE = /^[A-Za-z0-9_:./-]{1,64}$/;

export function boundedLabel(value: string | undefined, fallback = 'none'): string {
  if (value === undefined || value === '') return fallback;
  return CODE_LIKE.test(value) ? value : 'other';
}
