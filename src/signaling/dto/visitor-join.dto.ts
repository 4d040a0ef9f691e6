import { IsOptional, IsString, Length } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';

export class VisitorJoinDto {
  @IsProtocolId()
  orgId!: string;

  /** The page the widget runs on; routing matches its host and path against the pools' rules. */
  @IsString()
  @Length(1, 2048)
  pageUrl!: string;

  /** The id the widget remembers; honoured only when no live session holds it. */
  @IsOptional()
  @IsProtocolId()
  visitorId?: string;
}
