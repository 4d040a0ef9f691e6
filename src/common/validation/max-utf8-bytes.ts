import { ValidateBy, ValidationOptions } from 'class-validator';

/** A string of at most `bytes` bytes in UTF-8 (a limit on what it costs, not on its characters). */
export function MaxUtf8Bytes(bytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxUtf8Bytes',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value) <= bytes,
        defaultMessage: () => `$property must be at most ${bytes} bytes`,
      },
    },
    options,
  );
}
