import { IsIn } from 'class-validator';

export class AgentAwayDto {
  @IsIn(['idle', 'manual'])
  reason!: 'idle' | 'manual';
}
