import type { ValidationError } from 'class-validator';
import type { FieldError } from '../errors/ws-error';

/** Flattens class-validator errors into `[{field, message}]` with dotted paths (`pools.0.poolId`). */
export function toFieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) result.push({ field, message });
    if (error.children?.length) result.push(...toFieldErrors(error.children, field));
  }
  return result;
}
