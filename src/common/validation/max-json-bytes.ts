import { ValidateBy, ValidationOptions } from 'class-validator';

/** A value whose JSON is at most `bytes` long (UTF-8): caps free-form objects such as SDP signals. */
export function MaxJsonBytes(bytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      validator: {
        validate: (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '') <= bytes,
        defaultMessage: () => `$property must be at most ${bytes} bytes of JSON`,
      },
    },
    options,
  );
}
