import { IsObject, IsOptional, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';

const MAX_PROFILE_BYTES = 4 * 1024;

/** An object whose JSON is at most `bytes` long. */
function MaxJsonBytes(bytes: number, options?: ValidationOptions): PropertyDecorator {
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

export class AgentLoginDto {
  @IsProtocolId()
  agentId!: string;

  /** Optional only when the handshake carried a valid token. Size is checked by the verifier. */
  @IsOptional()
  @IsString()
  @MaxLength(64 * 1024)
  token?: string;

  /** Accepted for compatibility with existing dashboards and ignored: visitors see the directory's profile. */
  @IsOptional()
  @IsObject()
  @MaxJsonBytes(MAX_PROFILE_BYTES)
  profile?: Record<string, unknown>;
}
