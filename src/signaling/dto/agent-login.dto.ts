import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';
import { MaxJsonBytes } from '../../common/validation/max-json-bytes';

const MAX_PROFILE_BYTES = 4 * 1024;

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
