import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';

export class CallRejectDto {
  @IsProtocolId()
  requestId!: string;

  /** Free text shown to the visitor (PROTOCOL §2: at most 200 characters). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}
