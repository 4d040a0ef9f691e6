import { IsNumber, Max, Min, ValidateIf } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';

/** `widget:missed_opportunity`: the widget would have shown itself but no agent was there (PROTOCOL §2.4). */
export class MissedOpportunityDto {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(86_400)
  triggerDelaySeconds!: number;

  /** The visitor's pool as `agent:unavailable` named it; null when its page matched none. */
  @ValidateIf((_dto, value) => value !== null)
  @IsProtocolId()
  poolId!: string | null;
}
