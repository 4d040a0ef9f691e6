import { IsObject, IsOptional, IsString } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';
import { MaxJsonBytes } from '../../common/validation/max-json-bytes';

const MAX_PROFILE_BYTES = 4 * 1024;

export class AgentLoginDto {
  @IsProtocolId()
  agentId!: string;

  /**
   * Optional only when the handshake carried a valid token. Its size is the verifier's to refuse
   * (over 8 KiB: AUTH_INVALID_TOKEN), within the event's 16 KiB payload limit.
   */
  @IsOptional()
  @IsString()
  token?: string;

  /** Accepted for compatibility with existing dashboards and ignored: visitors see the directory's profile. */
  @IsOptional()
  @IsObject()
  @MaxJsonBytes(MAX_PROFILE_BYTES)
  profile?: Record<string, unknown>;
}
